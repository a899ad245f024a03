#!/usr/bin/python3
"""A churn client: a new connection per request, no pool.  Requests
arrive at --rate per second (Poisson); each of --threads threads takes
one, connects, runs one short statement, and closes.  Never a leak: every
session lives for a connect, one query and a close.

Ground truth (--truth FILE): "open" and "close" with the backend pid for
every session, "exit" with the totals.
"""
import argparse
import os
import queue
import random
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from truth import Truth  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--app", default="churn")
    ap.add_argument("--rate", type=float, default=20, help="requests/s")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--work-ms", type=float, default=20)
    ap.add_argument("--duration", type=float, default=180)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--truth", default="")
    opts = ap.parse_args()
    truth = Truth(opts.truth)
    rnd = random.Random(opts.seed)
    requests = queue.Queue(maxsize=1000)
    done = threading.Event()
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()

    def serve(work):
        conn = psycopg2.connect("", application_name=opts.app)
        pid = conn.info.backend_pid
        truth.log("open", pid=pid, leaked=False)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_sleep(%s)", (work,))
            conn.commit()
        finally:
            conn.close()
            truth.log("close", pid=pid, how="close")

    def worker():
        while not done.is_set():
            try:
                work = requests.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                serve(work)
                key = "requests"
            except psycopg2.Error:
                key = "errors"
            with lock:
                counts[key] += 1

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(opts.threads)]
    for t in threads:
        t.start()
    truth.log("start", kind="churn", app=opts.app, opts=vars(opts))
    start = time.monotonic()
    next_at = start
    while next_at - start < opts.duration:
        next_at += rnd.expovariate(opts.rate)
        while time.monotonic() < next_at:
            time.sleep(min(0.05, max(0.0, next_at - time.monotonic())))
        work = rnd.uniform(0.5, 1.5) * opts.work_ms / 1000
        try:
            requests.put_nowait(work)
        except queue.Full:
            pass
    done.set()
    for t in threads:
        t.join(5)
    truth.log("exit", **counts)


if __name__ == "__main__":
    main()
