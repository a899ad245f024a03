#!/usr/bin/python3
"""Sessions held on purpose, on psycopg2, in one process.

--workers N: listener threads started one every --every seconds, each on
a connection of its own that runs LISTEN and then only waits for
notifications (no further statement), beside a small ThreadedConnectionPool
that serves a job every --job-every seconds and now and then sends a
NOTIFY.

--warm N: instead, a pool warmed to N connections over a few seconds (N
concurrent requests, one more every --warm-gap seconds), then no load
at all.

Connects with PGHOST, PGPORT, PGUSER and PGDATABASE; prints "ready" once
everything is open and runs --duration seconds."""
import argparse
import select
import threading
import time

import psycopg2
import psycopg2.pool


def listener(app, stop, got):
    conn = psycopg2.connect("", application_name=app)
    conn.autocommit = True
    conn.cursor().execute("LISTEN jobs")
    while not stop.is_set():
        if select.select([conn], [], [], 0.5) != ([], [], []):
            conn.poll()
            while conn.notifies:
                conn.notifies.pop(0)
                got.append(1)
    conn.close()


def workers(opts):
    pool = psycopg2.pool.ThreadedConnectionPool(1, 3, "",
                                                application_name=opts.app)
    stop = threading.Event()
    got = []
    threads = []
    end = time.monotonic() + opts.duration
    next_worker = time.monotonic()
    n = 0
    while time.monotonic() < end:
        if len(threads) < opts.workers and time.monotonic() >= next_worker:
            t = threading.Thread(target=listener, args=(opts.app, stop, got))
            t.start()
            threads.append(t)
            next_worker += opts.every
            if len(threads) == opts.workers:
                print("ready", flush=True)
        conn = pool.getconn()
        conn.autocommit = True
        n += 1
        conn.cursor().execute("NOTIFY jobs" if n % 5 == 0 else "SELECT 1")
        pool.putconn(conn)
        time.sleep(opts.job_every)
    stop.set()
    for t in threads:
        t.join()
    pool.closeall()
    print("notifications", len(got), flush=True)


def warm(opts):
    conns = []
    for _ in range(opts.warm):
        c = psycopg2.connect("", application_name=opts.app)
        c.autocommit = True
        c.cursor().execute("SELECT 1")
        conns.append(c)
        time.sleep(opts.warm_gap)
    print("ready", flush=True)
    time.sleep(opts.duration)
    for c in conns:
        c.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--app", default="listeners")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--every", type=float, default=5)
    ap.add_argument("--job-every", type=float, default=0.5)
    ap.add_argument("--warm", type=int, default=0)
    ap.add_argument("--warm-gap", type=float, default=0.4)
    ap.add_argument("--duration", type=float, default=60)
    o = ap.parse_args()
    warm(o) if o.warm else workers(o)
