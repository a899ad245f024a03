"""The ground-truth log shared by the Python workloads: one JSON object a
line, "t" (epoch seconds) and "os_pid" (the client process) on each,
appended with one write(2) on an O_APPEND descriptor so that several
processes (pytest-xdist workers) can share one file."""
import json
import os
import threading
import time


class Truth:
    def __init__(self, path):
        self.fd = None
        if path:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                              0o644)
        self.lock = threading.Lock()

    def log(self, ev, **fields):
        if self.fd is None:
            return
        line = {"t": time.time(), "ev": ev, "os_pid": os.getpid()}
        line.update(fields)
        data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
        with self.lock:
            os.write(self.fd, data)


def backend_pid(conn):
    """The server process of a psycopg2 connection."""
    return conn.info.backend_pid
