"""SQLAlchemy under pgdrip's hooks, through its pool events: an engine
on psycopg2 (checkout and checkin, a checkout dropped to the garbage
collector, one still out at exit, dispose), an async engine on asyncpg,
and a SQLite engine (not PostgreSQL: nothing said).  "@hook" marks where
an event's stack starts."""
import asyncio
import gc

import sqlalchemy
from hookprog import SECRET, checkpoint, say
from sqlalchemy.ext.asyncio import create_async_engine


async def run_async():
    engine = create_async_engine("postgresql+asyncpg://", connect_args={"password": SECRET, "server_settings": {"application_name": "hk-sa-async"}})
    async with engine.connect() as conn:  # @hook take sqlalchemy.AsyncAdaptedQueuePool hk-sa-async give
        say("async", (await conn.exec_driver_sql("SELECT 5")).scalar())
        checkpoint()
    await engine.dispose()


def main():
    global held
    engine = sqlalchemy.create_engine("postgresql+psycopg2://", connect_args={"application_name": "hk-sa-pool", "password": SECRET})
    with engine.connect() as conn:  # @hook take sqlalchemy.QueuePool hk-sa-pool give
        say("answer", conn.exec_driver_sql("SELECT 41 + 1").scalar())
    held = engine.connect()  # @hook take sqlalchemy.QueuePool hk-sa-pool close:exit
    dropped = engine.connect()  # @hook take sqlalchemy.QueuePool hk-sa-pool lost
    asyncio.run(run_async())
    del dropped
    gc.collect()
    lite = sqlalchemy.create_engine("sqlite://")
    with lite.connect() as conn:
        say("sqlite", conn.exec_driver_sql("SELECT 3").scalar())
    say("held", held.closed)


main()
