#!/usr/bin/python3
"""A threaded service on psycopg 3's ConnectionPool (psycopg_pool) in its
default shape: min_size = 4 and max_size = min_size, every connection
opened at start, handed out first in, first out.  Requests come at
--rate a second, each in a thread of its own; each takes a connection,
runs pg_sleep(--work-ms) and gives it back.  With --leak-every N, every
Nth request takes the error path and never gives its connection back,
so the pool drains until every request times out.  With --quiet-after S
the requests stop after S seconds while the pool stays open (a service
whose traffic stops).

    PGUSER=app /usr/bin/python3 psycopg_pool_app.py --app NAME [--size 4] \
        --rate 5 --leak-every 0 --duration 60 [--work-ms 20] \
        [--rate-low R --period S] [--quiet-after S]

Connects with PGHOST, PGPORT, PGUSER and PGDATABASE.  Prints one line per
leaked connection ("leak PID SECONDS", seconds since the start), one when
the first request times out ("exhausted SECONDS") and, at the end, the
counts."""
import argparse
import os
import threading
import time

from psycopg_pool import ConnectionPool, PoolTimeout


def rate_at(s, opts):
    """The request rate s seconds in: with a period, it swings from --rate
    down to --rate-low and back (a daily curve, sped up); else it stays."""
    if opts.period <= 0:
        return opts.rate
    phase = (s % opts.period) / opts.period
    down = 2 * phase if phase < 0.5 else 2 - 2 * phase
    return opts.rate - (opts.rate - opts.rate_low) * down


def main(opts):
    t0 = time.monotonic()
    since = lambda: round(time.monotonic() - t0, 1)  # noqa: E731
    lock = threading.Lock()
    counts = {"served": 0, "timed_out": 0}
    leaked = []
    pool = ConnectionPool("application_name=" + opts.app,
                          min_size=opts.size, timeout=opts.timeout)
    pool.wait()  # every member open before the first request

    def request(n):
        try:
            conn = pool.getconn()
        except PoolTimeout:
            with lock:
                counts["timed_out"] += 1
                if counts["timed_out"] == 1:
                    print("exhausted", since(), flush=True)
            return
        if opts.leak_every and n % opts.leak_every == 0:
            # The error path: the handler forgets the connection.
            with lock:
                leaked.append(conn)
            print("leak", conn.info.backend_pid, since(), flush=True)
            return
        try:
            conn.execute("SELECT pg_sleep(%s)", (opts.work_ms / 1000,))
            conn.commit()
            with lock:
                counts["served"] += 1
        finally:
            pool.putconn(conn)

    threads = []
    n = 0
    while time.monotonic() - t0 < opts.duration:
        if opts.quiet_after and time.monotonic() - t0 >= opts.quiet_after:
            time.sleep(0.2)  # no traffic; the pool stays open
            continue
        n += 1
        th = threading.Thread(target=request, args=(n,), daemon=True)
        th.start()
        threads.append(th)
        time.sleep(1.0 / rate_at(time.monotonic() - t0, opts))
    for th in threads:
        th.join()
    print("requests served", counts["served"], "timed_out",
          counts["timed_out"], "leaked", len(leaked), flush=True)
    # The leaked connections close with the process (the pool's close
    # would wait for them).
    os._exit(0)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--app", default="psycopg-pool-app")
    p.add_argument("--size", type=int, default=4,
                   help="min_size = max_size (psycopg_pool's default: 4)")
    p.add_argument("--rate", type=float, default=5)
    p.add_argument("--leak-every", type=int, default=0)
    p.add_argument("--timeout", type=float, default=2,
                   help="seconds a request waits for a connection")
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--work-ms", type=float, default=20)
    p.add_argument("--rate-low", type=float, default=0)
    p.add_argument("--period", type=float, default=0)
    p.add_argument("--quiet-after", type=float, default=0)
    main(p.parse_args())
