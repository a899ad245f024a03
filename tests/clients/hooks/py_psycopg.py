"""psycopg 3 and psycopg_pool under pgdrip's hooks: connect and close,
a connection left to the garbage collector, one open at exit; a
ConnectionPool's connection() and getconn/putconn, a checkout dropped to
the garbage collector without being returned; the async connection and
AsyncConnectionPool.  "@hook" marks where an event's stack starts."""
import asyncio
import gc

import psycopg
import psycopg_pool
from hookprog import SECRET, checkpoint, say


async def run_async():
    aconn = await psycopg.AsyncConnection.connect("application_name=hk-p3-async password=" + SECRET)  # @hook open psycopg hk-p3-async close:close
    cur = await aconn.execute("SELECT 7")
    say("async", (await cur.fetchone())[0])
    apool = psycopg_pool.AsyncConnectionPool("application_name=hk-p3-apool", min_size=1, max_size=2, open=False)
    await apool.open(wait=True)
    async with apool.connection() as c:  # @hook take psycopg_pool.AsyncConnectionPool hk-p3-apool give
        await c.execute("SELECT 1")
    checkpoint()
    await aconn.close()
    await apool.close()


def main():
    global kept
    direct = psycopg.connect("application_name=hk-p3-direct password=" + SECRET)  # @hook open psycopg hk-p3-direct close:close
    say(type(direct).__name__, isinstance(direct, psycopg.Connection))
    dropped = psycopg.Connection.connect(application_name="hk-p3-gc", password=SECRET)  # @hook open psycopg hk-p3-gc close:gc
    kept = psycopg.connect(application_name="hk-p3-exit")  # @hook open psycopg hk-p3-exit close:exit
    pool = psycopg_pool.ConnectionPool("application_name=hk-p3-pool password=" + SECRET, min_size=2, max_size=4)
    pool.wait()
    with pool.connection() as c:  # @hook take psycopg_pool.ConnectionPool hk-p3-pool give
        say("answer", c.execute("SELECT 41 + 1").fetchone()[0])
    taken = pool.getconn()  # @hook take psycopg_pool.ConnectionPool hk-p3-pool give
    lost = pool.getconn()  # @hook take psycopg_pool.ConnectionPool hk-p3-pool lost
    asyncio.run(run_async())
    pool.putconn(taken)
    direct.close()
    del dropped, lost
    gc.collect()
    try:
        psycopg.connect(dbname="hk_no_such_db")
    except psycopg.OperationalError as exc:
        say("error", type(exc).__name__, "does not exist" in str(exc))
    pool.close()
    say("kept", kept.closed)


main()
