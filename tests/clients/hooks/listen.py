"""The receiving end of pgdrip's client-hook socket, for the tests: binds
a unix stream socket, accepts every client and appends each line it
reads to OUT, as it came.

  listen.py SOCKET OUT [--stall-until FILE]

With --stall-until, connections are accepted but nothing is read until
FILE exists (a listener whose socket fills up).  Writes "ready" to
OUT.ready once bound, and a line to OUT.eof each time a client's
connection ends (all it sent is in OUT by then).  Ends on SIGTERM.
"""
import os
import selectors
import signal
import socket
import sys


def main():
    path, out = sys.argv[1], sys.argv[2]
    stall = sys.argv[4] if len(sys.argv) > 4 and \
        sys.argv[3] == "--stall-until" else None
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(64)
    srv.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    with open(out + ".ready", "w") as f:
        f.write("ready\n")
    sink = open(out, "ab", buffering=0)
    waiting = []
    while True:
        if stall and waiting and os.path.exists(stall):
            for c in waiting:
                sel.register(c, selectors.EVENT_READ)
            waiting = []
        for key, _ in sel.select(0.05):
            if key.fileobj is srv:
                try:
                    c, _ = srv.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                if stall and not os.path.exists(stall):
                    waiting.append(c)
                else:
                    sel.register(c, selectors.EVENT_READ)
                continue
            c = key.fileobj
            try:
                data = c.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(c)
                c.close()
                with open(out + ".eof", "a") as f:
                    f.write("eof\n")
                continue
            sink.write(data)


main()
