"""Raw psycopg2 connections.  A leaking test keeps its connection in a
module-level registry (a forgotten cache) and never closes it."""
import pytest

from conftest import close, connect, lookup

_registry = []


@pytest.mark.leak_capable
@pytest.mark.parametrize("n", range(8))
def test_order_lookup(n, leak, warm_engine, pause):
    conn = connect("raw-never-closed" if leak else "raw", leaked=leak)
    with conn.cursor() as cur:
        cur.execute("SELECT %s::int * 2 AS total", (n,))
        assert cur.fetchone()[0] == 2 * n
    conn.commit()
    if leak:
        _registry.append(conn)  # the bug: never closed
    else:
        close(conn)
    assert lookup(warm_engine) > 0
    pause()
