#!/usr/bin/python3
"""A service on asyncpg's default pool (create_pool: min_size = max_size =
10, every connection opened at start), for the session verdict's
pre-filled pool kind.  Requests come at --rate a second; each acquires a
connection, runs a short query and releases it.  With --leak-every N,
every Nth request takes the error path and never releases its
connection, so the pool drains until every acquire times out.

    PGUSER=app /usr/bin/python3 asyncpg_app.py --app NAME --size 10 \
        --rate 5 --leak-every 0 --duration 60 [--work-ms 20] \
        [--rate-low R --period S]

Connects with PGHOST, PGPORT, PGUSER and PGDATABASE.  Prints one line per
leaked connection ("leak PID SECONDS", seconds since the start), one when
the first acquire times out ("exhausted SECONDS") and, at the end, the
counts."""
import argparse
import asyncio
import sys

import asyncpg


async def request(pool, n, opts, counts, leaked):
    try:
        conn = await pool.acquire(timeout=opts.acquire_timeout)
    except asyncio.TimeoutError:
        # The pool is exhausted: said once, when it begins.
        if counts["timed_out"] == 0:
            print("exhausted", round(asyncio.get_running_loop().time() - opts.t0, 1),
                  flush=True)
        counts["timed_out"] += 1
        return
    if opts.leak_every and n % opts.leak_every == 0:
        # The error path: the handler forgets the connection.
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        print("leak", pid, round(asyncio.get_running_loop().time() - opts.t0, 1), flush=True)
        leaked.append(conn)
        return
    try:
        await conn.execute("SELECT pg_sleep($1)", opts.work_ms / 1000)
        counts["served"] += 1
    finally:
        await pool.release(conn)


def rate_at(s, opts):
    """The request rate s seconds in: with a period, it swings from --rate
    down to --rate-low and back, again and again (a daily curve, sped
    up); else it stays."""
    if opts.period <= 0:
        return opts.rate
    phase = (s % opts.period) / opts.period
    down = 2 * phase if phase < 0.5 else 2 - 2 * phase
    return opts.rate - (opts.rate - opts.rate_low) * down


async def main(opts):
    opts.t0 = asyncio.get_running_loop().time()
    kwargs = {"server_settings": {"application_name": opts.app}}
    if opts.size:
        kwargs["min_size"] = kwargs["max_size"] = opts.size
    pool = await asyncpg.create_pool(**kwargs)  # defaults: 10 and 10
    counts = {"served": 0, "timed_out": 0}
    leaked = []
    tasks = []
    loop = asyncio.get_running_loop()
    end = loop.time() + opts.duration
    n = 0
    while loop.time() < end:
        n += 1
        tasks.append(asyncio.create_task(request(pool, n, opts, counts, leaked)))
        await asyncio.sleep(1.0 / rate_at(loop.time() - opts.t0, opts))
    await asyncio.gather(*tasks)
    print("requests", n, "served", counts["served"], "timed_out",
          counts["timed_out"], "leaked", len(leaked), flush=True)
    pool.terminate()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--app", default="asyncpg-app")
    p.add_argument("--size", type=int, default=0,
                   help="min_size = max_size (0: asyncpg's defaults)")
    p.add_argument("--rate", type=float, default=5)
    p.add_argument("--leak-every", type=int, default=0)
    p.add_argument("--acquire-timeout", type=float, default=0.5)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--work-ms", type=float, default=20)
    p.add_argument("--rate-low", type=float, default=0)
    p.add_argument("--period", type=float, default=0)
    asyncio.run(main(p.parse_args()))
    sys.exit(0)
