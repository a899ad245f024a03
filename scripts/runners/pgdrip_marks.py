"""The client side of pgdrip's test endpoint for Python, shared by the
pytest plugin (pgdrip_pytest.py) and the unittest marks
(pgdrip_unittest.py): one connection a process to $PGDRIP_TESTS, one
line a boundary ("start NAME", "end NAME", ...), each waiting for
pgdrip's answer (pgdrip has sampled the server by then).  Outside pgdrip
(PGDRIP_TESTS unset) it does nothing; if pgdrip goes away the suite goes
on.
"""
import os
import sys

_LINE_MAX = 4000
_TIMEOUT_S = 60.0


class Endpoint:
    def __init__(self):
        self.path = os.environ.get("PGDRIP_TESTS", "")
        self.sock = None
        self.pid = None
        self.broken = False

    def _connect(self):
        # A forked child must not share its parent's connection.
        if self.sock is not None and self.pid == os.getpid():
            return True
        self.sock = None
        import socket

        sock = None
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(_TIMEOUT_S)
            sock.connect(self.path)
        except OSError:
            if sock is not None:
                sock.close()
            self.broken = True
            return False
        self.sock = sock
        self.pid = os.getpid()
        return True

    def mark(self, verb, name):
        """Sends one boundary and waits for pgdrip's answer."""
        if not self.path or self.broken or not self._connect():
            return
        text = " ".join(str(name).splitlines()) or "?"
        data = text.encode("utf-8", "surrogateescape")[:_LINE_MAX]
        try:
            self.sock.sendall(verb.encode() + b" " + data + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = self.sock.recv(256)
                if not chunk:
                    raise OSError("closed")
                reply += chunk
        except OSError:
            # pgdrip went away (or stopped answering): the suite goes on.
            self.broken = True


def publish(name):
    """The current test for pgdrip's client hooks, when they are loaded
    (their events carry it)."""
    hooks = sys.modules.get("pgdrip_hooks")
    if hooks is not None:
        hooks.current_test = name
