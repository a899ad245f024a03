"""asyncpg's Pool under pytest (plain event loops, no pytest-asyncio):
reserve() acquires and, on its error path, never releases (HOOKSUITE_
HEALTHY=1: it always does); count() takes a checkout whose connection
the server ends while it is out (asyncpg's pool takes it back itself),
and its error path never releases it either; test_count leaves the
connection it opened resting in the shared pool, and the members the
pool opened in the fixture rest there, never taken.  The lines
test_hooks_e2e.sh expects are marked "@take"."""
import asyncio
import contextlib
import os

import asyncpg
import pytest

HEALTHY = os.environ.get("HOOKSUITE_HEALTHY") == "1"


@pytest.fixture(scope="module")
def shop():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pool = loop.run_until_complete(asyncpg.create_pool(
        min_size=4, max_size=4,
        server_settings={"application_name": "hooksuite-async"}))
    # Never closed (close() would wait for the leaked connection for
    # ever): its idle members, opened here, rest in it until the exit.
    return loop, pool


async def reserve(pool, qty):
    conn = await pool.acquire()  # @take reserve
    left = await conn.fetchval("SELECT $1::int - 5", qty)
    if left > 0 and not HEALTHY:
        raise ValueError("short of pears")  # the error path: no release
    await pool.release(conn)
    return left


async def count(pool):
    conn = await pool.acquire()  # @take count
    ended = asyncio.Event()
    conn.add_termination_listener(lambda _conn: ended.set())
    admin = await asyncpg.connect(
        server_settings={"application_name": "hooksuite-admin"})
    try:
        await admin.execute("SELECT pg_terminate_backend($1)",
                            conn.get_server_pid())
    finally:
        await admin.close()
    await ended.wait()
    try:
        return await conn.fetchval("SELECT count(*) FROM pg_class")
    finally:
        if HEALTHY:
            await pool.release(conn)


async def restock(pool):
    async with pool.acquire() as conn:
        await conn.execute("SELECT 1")


def test_count(shop):
    loop, pool = shop
    assert loop.run_until_complete(pool.fetchval("SELECT 3")) == 3


def test_count_ended(shop):
    loop, pool = shop
    with pytest.raises(asyncpg.InterfaceError):
        loop.run_until_complete(count(pool))


def test_reserve_pear_short(shop):
    loop, pool = shop
    with (contextlib.nullcontext() if HEALTHY else pytest.raises(ValueError)):
        loop.run_until_complete(reserve(pool, 9))


def test_restock(shop):
    loop, pool = shop
    loop.run_until_complete(restock(pool))
