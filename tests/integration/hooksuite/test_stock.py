"""Two tests leak a checkout through reserve(): one keeps it referenced
(and idle in a transaction), one drops it to the garbage collector.  The
other tests use the pool and give back what they take."""
import gc
import os

HEALTHY = os.environ.get("HOOKSUITE_HEALTHY") == "1"
KEPT = []


def reserve(pool):
    conn = pool.getconn()
    conn.execute("SELECT 'reserve'")
    if HEALTHY:
        conn.rollback()
        pool.putconn(conn)
        return None
    return conn


def test_count(pool):
    with pool.connection() as conn:
        conn.execute("SELECT 1")


def test_reserve_pear_short(pool):
    KEPT.append(reserve(pool))


def test_restock(pool):
    conn = reserve(pool)
    del conn
    gc.collect()


def test_count_again(pool):
    with pool.connection() as conn:
        conn.execute("SELECT 2")
