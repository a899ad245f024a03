"""asyncpg under pgdrip's hooks: connect and close, one open at exit;
a Pool's acquire and release, "async with pool.acquire()", and a
checkout never released.  "@hook" marks where an event's stack
starts."""
import asyncio

import asyncpg
from hookprog import SECRET, checkpoint, say


async def main():
    direct = await asyncpg.connect(password=SECRET, server_settings={"application_name": "hk-apg-direct"})  # @hook open asyncpg hk-apg-direct close:close
    say("answer", await direct.fetchval("SELECT 41 + 1"))
    kept = await asyncpg.connect(server_settings={"application_name": "hk-apg-exit"})  # @hook open asyncpg hk-apg-exit close:exit
    pool = await asyncpg.create_pool(min_size=2, max_size=3, password=SECRET, server_settings={"application_name": "hk-apg-pool"})
    async with pool.acquire() as c:  # @hook take asyncpg.Pool hk-apg-pool give
        say("pooled", await c.fetchval("SELECT 1"))
    c2 = await pool.acquire()  # @hook take asyncpg.Pool hk-apg-pool give
    leaked = await pool.acquire()  # @hook take asyncpg.Pool hk-apg-pool close:exit
    checkpoint()
    await pool.release(c2)
    await direct.close()
    try:
        await asyncpg.connect(database="hk_no_such_db")
    except asyncpg.InvalidCatalogNameError as exc:
        say("error", type(exc).__name__)
    say("kept", kept.is_closed(), "leaked", leaked is not None)


asyncio.run(main())
