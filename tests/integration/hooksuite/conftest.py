"""A session-scoped psycopg_pool pool (opened in a fixture: its opens are
in no test).  HOOKSUITE_HEALTHY=1 makes the suite its healthy twin."""
import psycopg_pool
import pytest


@pytest.fixture(scope="session")
def pool():
    p = psycopg_pool.ConnectionPool("application_name=hooksuite",
                                    min_size=3, max_size=6)
    p.wait()
    yield p
    p.close()
