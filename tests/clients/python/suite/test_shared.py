"""Tests sharing the session-scoped pool fixture."""
import pytest

from conftest import lookup


def use(pool, n):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT %s::int + 1", (n,))
            value = cur.fetchone()[0]
        conn.commit()
    finally:
        pool.putconn(conn)
    return value


@pytest.mark.parametrize("n", range(4))
def test_shared_pool(n, shared_pool, warm_engine, pause):
    assert use(shared_pool, n) == n + 1
    assert lookup(warm_engine) > 0
    pause()
