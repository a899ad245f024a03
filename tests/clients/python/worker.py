#!/usr/bin/python3
"""A web-ish job worker on psycopg2's ThreadedConnectionPool: jobs arrive
at --rate per second (Poisson) and --threads threads run them, each job
one short transaction on a pooled connection.

The retry-path bug (--fail-every / --fail-prob): a job whose statement
fails is retried on a NEW connection from the pool, and the failed one is
never returned: it is left "idle in transaction (aborted)"
(--failed-state aborted, the default) or, rolled back first, "idle"
(--failed-state idle).  Leaked connections still count against maxconn,
so once maxconn are leaked every getconn() raises "connection pool
exhausted" (psycopg2's pool never queues).

Note how psycopg2's pool behaves: putconn() closes a connection instead of
keeping it when minconn are already idle, so a pool busier than minconn
opens and closes sessions all the time.

Ground truth (--truth FILE): "open"/"close" with the backend pid, "leak"
when the retry path abandons one, "stats" every second, "exit".
"""
import argparse
import os
import queue
import random
import sys
import threading
import time

import psycopg2
import psycopg2.pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from truth import Truth  # noqa: E402


def options():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--app", default="worker")
    ap.add_argument("--threads", type=int, default=6)
    ap.add_argument("--minconn", type=int, default=2)
    ap.add_argument("--maxconn", type=int, default=12)
    ap.add_argument("--rate", type=float, default=20, help="jobs/s")
    ap.add_argument("--work-ms", type=float, default=80,
                    help="mean time a job holds its connection")
    ap.add_argument("--duration", type=float, default=180)
    ap.add_argument("--fail-every", type=float, default=0,
                    help="seconds between failing jobs (0: none)")
    ap.add_argument("--fail-prob", type=float, default=0,
                    help="or: each job fails with this probability")
    ap.add_argument("--failed-state", choices=("aborted", "idle"),
                    default="aborted")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--truth", default="")
    return ap.parse_args()


class LoggedPool(psycopg2.pool.ThreadedConnectionPool):
    """The pool, with every session it opens or closes logged."""

    def __init__(self, truth, *args, **kw):
        self.truth = truth
        super().__init__(*args, **kw)

    def _connect(self, key=None):
        conn = super()._connect(key)
        self.truth.log("open", pid=conn.info.backend_pid, leaked=False)
        return conn

    def _putconn(self, conn, key=None, close=False):
        pid = conn.info.backend_pid
        super()._putconn(conn, key, close)
        if conn.closed:
            self.truth.log("close", pid=pid, how="putconn")


def main():
    opts = options()
    truth = Truth(opts.truth)
    rnd = random.Random(opts.seed)
    pool = LoggedPool(truth, opts.minconn, opts.maxconn, "",
                      application_name=opts.app)
    jobs = queue.Queue(maxsize=1000)
    counts = {"ok": 0, "failed": 0, "leaked": 0, "exhausted": 0,
              "dropped": 0}
    lock = threading.Lock()
    done = threading.Event()

    def bump(name):
        with lock:
            counts[name] += 1

    def run(conn, job):
        with conn.cursor() as cur:
            if job["bad"]:
                # A statement that fails, as a serialization failure
                # or a constraint would.
                cur.execute("SELECT %s::int", ("not a number",))
            cur.execute("SELECT pg_sleep(%s)", (job["work"],))
        conn.commit()

    def handle(job):
        try:
            conn = pool.getconn()
        except psycopg2.pool.PoolError:
            bump("exhausted")
            return
        try:
            run(conn, job)
            pool.putconn(conn)
            bump("ok")
            return
        except psycopg2.Error as err:
            bump("failed")
            if opts.failed_state == "idle":
                conn.rollback()
            # BUG (by design): the retry takes a new connection and
            # the failed one is never given back.
            bump("leaked")
            truth.log("leak", pid=conn.info.backend_pid,
                      kind="retry-path-" + opts.failed_state,
                      error=str(err).strip())
        try:
            retry = pool.getconn()
        except psycopg2.pool.PoolError:
            bump("exhausted")
            return
        run(retry, dict(job, bad=False))
        pool.putconn(retry)
        bump("ok")

    def worker():
        while not done.is_set():
            try:
                job = jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            handle(job)

    def stats():
        with pool._lock:
            size = len(pool._pool) + len(pool._used)
            used = len(pool._used)
        with lock:
            truth.log("stats", size=size, used=used, queued=jobs.qsize(),
                      **counts)

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(opts.threads)]
    for t in threads:
        t.start()
    truth.log("start", kind="psycopg2-threaded-pool", app=opts.app,
              opts=vars(opts))

    start = time.monotonic()
    next_at = start
    next_fail = start + opts.fail_every if opts.fail_every else None
    next_stats = start + 1
    while next_at - start < opts.duration:
        next_at += rnd.expovariate(opts.rate)
        while time.monotonic() < next_at:
            time.sleep(min(0.05, max(0.0, next_at - time.monotonic())))
        now = time.monotonic()
        if now >= next_stats:
            stats()
            next_stats += 1
        bad = opts.fail_prob > 0 and rnd.random() < opts.fail_prob
        if next_fail is not None and now >= next_fail:
            bad = True
            next_fail += opts.fail_every
        work = rnd.uniform(0.5, 1.5) * opts.work_ms / 1000
        try:
            jobs.put_nowait({"bad": bad, "work": work})
        except queue.Full:
            bump("dropped")
    done.set()
    for t in threads:
        t.join(5)
    stats()
    truth.log("exit", **counts)


if __name__ == "__main__":
    main()
