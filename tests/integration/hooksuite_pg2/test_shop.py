"""psycopg2.pool under pytest: a session pool of two idle members opened
in the fixture (in the caller's code, as psycopg2's pools do) and never
closed; reserve() takes a connection and, on its error path, never puts
it back (HOOKSUITE_HEALTHY=1: it always does).  The lines
test_hooks_e2e.sh expects are marked "@take"."""
import os

import psycopg2.pool
import pytest

HEALTHY = os.environ.get("HOOKSUITE_HEALTHY") == "1"
KEPT = []


@pytest.fixture(scope="session")
def pool():
    return psycopg2.pool.ThreadedConnectionPool(
        2, 4, "application_name=hooksuite-pg2")


def reserve(pool, qty):
    conn = pool.getconn()  # @take reserve
    with conn.cursor() as cur:
        cur.execute("SELECT %s - 5", (qty,))
        left = cur.fetchone()[0]
    if left > 0 and not HEALTHY:
        KEPT.append(conn)
        raise ValueError("short of pears")  # the error path: never put back
    conn.rollback()
    pool.putconn(conn)
    return left


def test_count(pool):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 3")
    finally:
        conn.rollback()
        pool.putconn(conn)


def test_reserve_pear_short(pool):
    if HEALTHY:
        assert reserve(pool, 9) == 4
    else:
        with pytest.raises(ValueError):
            reserve(pool, 9)
