"""Tests whose checkouts pgdrip's hooks must name: each take's "test" is
the test whose body took it (the function named by the stack's first
frame)."""
import gc

KEPT = []


def test_returned(pool):
    with pool.connection() as conn:
        conn.execute("SELECT 1")


def test_never_returned(pool):
    KEPT.append(pool.getconn())


def test_dropped_to_gc(pool):
    conn = pool.getconn()
    conn.execute("SELECT 1")
    del conn
    gc.collect()


def test_taken_and_given(pool):
    conn = pool.getconn()
    pool.putconn(conn)
