"""One checkout's cost, for scripts/bench: N checkouts and returns of a
one-connection pool, in batches; prints the median CPU microseconds (the process's user and
system time: the machine may be shared) a
checkout (taken and given back) of the batches, per library.

  bench_checkout.py [N]
"""
import statistics
import sys
import time


def run(take, give, n):
    for _ in range(200):
        give(take())
    batches = []
    for _ in range(7):
        t0 = time.process_time()
        for _ in range(n):
            give(take())
        batches.append((time.process_time() - t0) / n * 1e6)
    return statistics.median(batches)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    import psycopg2.pool
    import psycopg_pool

    pool = psycopg_pool.ConnectionPool("application_name=hk-bench", min_size=1, max_size=1)
    pool.wait()
    print("psycopg_pool %.2f" % run(pool.getconn, pool.putconn, n))
    pool.close()
    pool2 = psycopg2.pool.SimpleConnectionPool(1, 1, application_name="hk-bench")
    print("psycopg2.pool %.2f" % run(pool2.getconn, pool2.putconn, n))
    pool2.closeall()


main()
