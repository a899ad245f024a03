"""A small pytest suite with a classic leak, for test_attribution.sh:
each test opens a connection for itself and never closes it, so the
count grows test after test and falls back when the process exits."""
import time

import psycopg2
import pytest

# Held here, never closed: what a forgotten fixture teardown looks like.
_leaked = []


@pytest.mark.parametrize("n", range(24))
def test_query(n):
    conn = psycopg2.connect("", application_name="pytest-suite")
    with conn.cursor() as cur:
        cur.execute("SELECT %s", (n,))
        assert cur.fetchone()[0] == n
    conn.commit()
    _leaked.append(conn)
    time.sleep(0.3)
