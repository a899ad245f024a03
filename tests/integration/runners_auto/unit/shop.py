"""The shop the unittest suite tests (test_shop.py), which names no
pgdrip: reserve() takes a connection from a psycopg2 pool and, on its
error path, never gives it back (HOOKSUITE_HEALTHY=1: it always does).
test_runners_auto.sh expects the line marked "@take"."""
import os

import psycopg2.pool

HEALTHY = os.environ.get("HOOKSUITE_HEALTHY") == "1"


def make_pool(app):
    return psycopg2.pool.SimpleConnectionPool(1, 4, application_name=app)


def reserve(pool, qty):
    conn = pool.getconn()  # @take reserve
    with conn.cursor() as cur:
        cur.execute("SELECT %s - 5", (qty,))
        left = cur.fetchone()[0]
    conn.rollback()
    if left > 0 and not HEALTHY:
        raise ValueError("short of pears")  # the error path: no putconn
    pool.putconn(conn)
    return left


def count(pool):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 3")
            return cur.fetchone()[0]
    finally:
        conn.rollback()
        pool.putconn(conn)
