#!/usr/bin/python3
"""A plain leaking process: every --every seconds it opens a connection,
runs one statement and keeps the connection, never closing it, for
--duration seconds (or until --count are open), then exits, which closes
them all.  Beside it, --healthy connections are opened at start and used
every second, as a process's own working sessions are.

Used for "a neighbour's leak" (it leaks while a wrapped command is clean)
and "a restarted leak" (run it again after it exits: it leaks again from
zero).

Ground truth (--truth FILE): "open" (leaked true for the kept ones),
"use" is not logged, "exit".
"""
import argparse
import os
import sys
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from truth import Truth  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--app", default="leaker")
    ap.add_argument("--every", type=float, default=2)
    ap.add_argument("--count", type=int, default=0, help="0: no limit")
    ap.add_argument("--healthy", type=int, default=1)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--truth", default="")
    opts = ap.parse_args()
    truth = Truth(opts.truth)
    truth.log("start", kind="leaker", app=opts.app, opts=vars(opts))

    def connect(leaked):
        conn = psycopg2.connect("", application_name=opts.app)
        conn.autocommit = True
        truth.log("open", pid=conn.info.backend_pid, leaked=leaked)
        return conn

    healthy = [connect(False) for _ in range(opts.healthy)]
    kept = []
    start = time.monotonic()
    next_leak = start + opts.every
    while time.monotonic() - start < opts.duration:
        for conn in healthy:
            with conn.cursor() as cur:
                cur.execute("SELECT now()")
        if time.monotonic() >= next_leak and (
                not opts.count or len(kept) < opts.count):
            conn = connect(True)
            with conn.cursor() as cur:
                cur.execute("SELECT 'leaked' AS what")
            kept.append(conn)  # the bug: never closed
            next_leak += opts.every
        time.sleep(min(1.0, max(0.05, next_leak - time.monotonic())))
    truth.log("exit", leaked=len(kept))


if __name__ == "__main__":
    main()
