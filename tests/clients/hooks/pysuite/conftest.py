"""A session-scoped psycopg_pool pool shared by the tests (opened in a
fixture, so its opens are in no test)."""
import psycopg_pool
import pytest


@pytest.fixture(scope="session")
def pool():
    p = psycopg_pool.ConnectionPool("application_name=hk-suite", min_size=2, max_size=6)
    p.wait()
    yield p
    p.close()
