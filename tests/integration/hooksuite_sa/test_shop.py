"""SQLAlchemy's QueuePool under pytest, on the driver HOOKSUITE_DRIVER
names (psycopg2 by default): reserve() takes a Connection and, on its
error path, keeps it, checked out and never closed, and browse() drops
its Connection to the garbage collector (SQLAlchemy then returns it to
the pool, and the next test takes it again) (HOOKSUITE_HEALTHY=1: both
close theirs); test_count and test_restock leave the connections they
opened resting in the shared pool, never disposed.  The lines test_hooks_e2e.sh expects are marked
"@take"."""
import contextlib
import gc
import os

import pytest
import sqlalchemy as sa

HEALTHY = os.environ.get("HOOKSUITE_HEALTHY") == "1"
DRIVER = os.environ.get("HOOKSUITE_DRIVER", "psycopg2")
KEPT = []


@pytest.fixture(scope="module")
def engine():
    # Never disposed: its idle connections rest in it until the exit.
    return sa.create_engine("postgresql+%s://" % DRIVER, pool_size=3,
                            connect_args={"application_name": "hooksuite-sa"})


def reserve(engine, qty):
    conn = engine.connect()  # @take reserve
    left = conn.execute(sa.text("SELECT :q - 5"), {"q": qty}).scalar()
    if left > 0 and not HEALTHY:
        KEPT.append(conn)
        raise ValueError("short of pears")  # the error path: kept open
    conn.close()
    return left


def browse(engine):
    conn = engine.connect()  # @take browse
    rows = conn.execute(sa.text("SELECT 1 UNION ALL SELECT 2")).all()
    if HEALTHY:
        conn.close()
    return len(rows)


def test_browse(engine):
    assert browse(engine) == 2
    gc.collect()


def test_count(engine):
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 3")).scalar() == 3


def test_reserve_pear_short(engine):
    with (contextlib.nullcontext() if HEALTHY else pytest.raises(ValueError)):
        reserve(engine, 9)


def test_restock(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT 1"))
