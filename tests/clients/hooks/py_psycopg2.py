"""psycopg2 under pgdrip's hooks: connect and close, a connection left
to the garbage collector, one open at exit, a ThreadedConnectionPool's
checkouts (returned, and one never returned), a SimpleConnectionPool's
checkout, a failing connect.
A "@hook" comment marks the line an event's stack must start at
(tests/clients/hooks/check.py reads them)."""
import gc
import sys

import psycopg2
import psycopg2.pool
from hookprog import SECRET, checkpoint, say


def open_direct():
    return psycopg2.connect(application_name="hk-p2-direct", password=SECRET)  # @hook open psycopg2 hk-p2-direct close:close


def main():
    global kept, pool
    direct = open_direct()
    say(type(direct).__name__,
        isinstance(direct, psycopg2.extensions.connection))
    dropped = psycopg2.connect("application_name=hk-p2-gc password=" + SECRET)  # @hook open psycopg2 hk-p2-gc close:gc
    kept = psycopg2.connect(application_name="hk-p2-exit")  # @hook open psycopg2 hk-p2-exit close:exit
    pool = psycopg2.pool.ThreadedConnectionPool(2, 4, application_name="hk-p2-pool", password=SECRET)  # @hook open psycopg2 hk-p2-pool * 2
    c = pool.getconn()  # @hook take psycopg2.pool.ThreadedConnectionPool hk-p2-pool give
    cur = c.cursor()
    cur.execute("SELECT 41 + 1")
    say("answer", cur.fetchone()[0])
    simple = psycopg2.pool.SimpleConnectionPool(1, 2, application_name="hk-p2-simple")  # @hook open psycopg2 hk-p2-simple take
    s = simple.getconn()  # @hook take psycopg2.pool.SimpleConnectionPool hk-p2-simple give
    simple.putconn(s)
    checkpoint()
    pool.putconn(c)
    leaked = pool.getconn()  # @hook take psycopg2.pool.ThreadedConnectionPool hk-p2-pool close:exit
    direct.close()
    del dropped
    gc.collect()
    try:
        psycopg2.connect(dbname="hk_no_such_db", password=SECRET)
    except psycopg2.OperationalError as exc:
        say("error", type(exc).__name__, "does not exist" in str(exc))
    say("kept", kept.closed, "leaked", leaked.closed)
    return 3


sys.exit(main())
