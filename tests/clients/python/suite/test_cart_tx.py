"""A session left inside a transaction: the test runs a statement and
returns without commit; a timer closes the connection a few seconds
later (SUITE_TX_HOLD), as a late finalizer would.  Meanwhile the
session is idle in transaction."""
import threading

import pytest

from conftest import TX_HOLD, close, connect, lookup


@pytest.mark.leak_capable
@pytest.mark.parametrize("n", range(4))
def test_tx_left_open(n, leak, warm_engine, pause):
    conn = connect("left-in-transaction" if leak else "tx", leaked=leak)
    cur = conn.cursor()
    cur.execute("SELECT txid_current() > 0")
    assert cur.fetchone()[0]
    if leak:
        timer = threading.Timer(TX_HOLD, close, (conn, "timer"))
        timer.daemon = True
        timer.start()  # the bug: no commit, closed only later
    else:
        conn.commit()
        close(conn)
    assert lookup(warm_engine) > 0
    pause()
