"""A background thread that opens a session of its own.  The leaking
test never stops the thread: the session stays until the process
exits."""
import threading

import pytest

from conftest import close, connect

_forever = threading.Event()  # never set


def holder(leak, ready, done):
    conn = connect("background-thread" if leak else "thread", leaked=leak)
    with conn.cursor() as cur:
        cur.execute("SELECT 'heartbeat'")
    conn.commit()
    ready.set()
    if leak:
        _forever.wait()
    done.wait()
    close(conn)


@pytest.mark.leak_capable
@pytest.mark.parametrize("n", range(2))
def test_background_holder(n, leak, pause):
    ready, done = threading.Event(), threading.Event()
    t = threading.Thread(target=holder, args=(leak, ready, done),
                         daemon=True)
    t.start()
    assert ready.wait(10)
    pause()
    if not leak:
        done.set()
        t.join(10)
