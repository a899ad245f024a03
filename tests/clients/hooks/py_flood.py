"""Floods pgdrip's hook socket: 4,000 checkouts of a one-connection
psycopg_pool pool as fast as they go (prints "flooded": it was never
blocked), then, once HOOKS_GO exists, 50 more slowly, so that lines
carrying the count of those dropped get through."""
import os
import time

import psycopg_pool
from hookprog import say


def nested(pool, depth):
    if depth:
        return nested(pool, depth - 1)
    conn = pool.getconn()
    pool.putconn(conn)


pool = psycopg_pool.ConnectionPool("application_name=hk-flood", min_size=1, max_size=1)
pool.wait()
for i in range(4000):
    nested(pool, 15)
say("flooded")
while not os.path.exists(os.environ["HOOKS_GO"]):
    time.sleep(0.02)
for i in range(50):
    nested(pool, 15)
    time.sleep(0.01)
pool.close()
say("done")
