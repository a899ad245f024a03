"""slowloris.py - holds many HTTP connections open by sending a request
one header line at a time, a few bytes every few seconds, and opens a new
connection for each one the server closes.  For test_listen.sh.

usage: slowloris.py HOST PORT SOURCE_ADDRESS CONNECTIONS SECONDS INTERVAL
Prints "opened N closed_by_server M refused R" at the end.
"""
import socket
import sys
import time

host, port, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
want, seconds, interval = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
socks, opened, closed, refused = [], 0, 0, 0


def connect():
    global opened, refused
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.bind((source, 0))
        s.connect((host, port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    except OSError:
        refused += 1
        s.close()
        return None
    opened += 1
    return s


end = time.monotonic() + seconds
while time.monotonic() < end:
    socks = [s for s in socks if s is not None]
    while len(socks) < want:
        socks.append(connect())
        if socks[-1] is None:
            socks.pop()
            break
    alive = []
    for s in socks:
        try:
            s.sendall(b"X-a: b\r\n")
            s.settimeout(0)
            try:
                if s.recv(1) == b"":
                    raise OSError("closed")
            except BlockingIOError:
                pass
            s.settimeout(1)
            alive.append(s)
        except OSError:
            closed += 1
            s.close()
    socks = alive
    time.sleep(interval)
for s in socks:
    s.close()
print("opened %d closed_by_server %d refused %d" % (opened, closed, refused))
