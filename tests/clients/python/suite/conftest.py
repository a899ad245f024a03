"""A pytest suite (30 tests) that leaks PostgreSQL sessions in known tests,
each kind of leak made the way real suites make it:

  test_orders.py      a raw psycopg2 connection kept in a module list,
                      never closed (leaked until the process exits)
  test_engine.py      a fixture calling create_engine() per test without
                      dispose(): the pooled session stays open until the
                      garbage collector reclaims the engine (a sawtooth)
  test_cart_tx.py     a session left inside a transaction, closed a few
                      seconds later (idle in transaction meanwhile)
  test_background.py  a background thread holding a session until exit

and two things that are NOT leaks: a session-scoped pool fixture
(shared_pool, closed at the session's end) and a module-level SQLAlchemy
engine warmed by the first test and reused by later ones.

Which tests leak (tests marked leak_capable only):
  SUITE_LEAK=none          a clean run: everything is closed
  SUITE_LEAK=all           every leak-capable test leaks
  SUITE_LEAK=a,b[3]        those tests ("test_x" matches every test_x[n])
  SUITE_LEAK_SEED=N        SUITE_LEAK_COUNT (default 5) tests picked at
                           random with seed N
  (unset)                  DEFAULT_LEAK below
Other knobs: SUITE_APP (application_name, default pytest-suite),
SUITE_TRUTH (the ground-truth JSON lines file), SUITE_TEST_MS (each
test's own work, default 250), SUITE_TX_HOLD (seconds a transaction is
left open, default 4).
"""
import os
import random
import sys
import time
import weakref

import psycopg2
import psycopg2.pool
import pytest
import sqlalchemy
from sqlalchemy import event, text

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from truth import Truth  # noqa: E402

APP = os.environ.get("SUITE_APP", "pytest-suite")
TEST_MS = float(os.environ.get("SUITE_TEST_MS", "250"))
TX_HOLD = float(os.environ.get("SUITE_TX_HOLD", "4"))
DEFAULT_LEAK = ("test_order_lookup[2],test_order_lookup[5],"
                "test_report_engine,test_tx_left_open[1],"
                "test_tx_left_open[3],test_background_holder[0]")
WORKER = os.environ.get("PYTEST_XDIST_WORKER")

truth = Truth(os.environ.get("SUITE_TRUTH", ""))
_current = {"test": None}
_closed = set()
_exiting = []
_leaking = set()


def current_test():
    """The nodeid of the running test and its phase (setup, call,
    teardown), from pytest's own PYTEST_CURRENT_TEST."""
    phase = None
    cur = os.environ.get("PYTEST_CURRENT_TEST", "")
    if cur.endswith(")") and " (" in cur:
        phase = cur.rsplit(" (", 1)[1][:-1]
    return _current["test"], phase


def log_open(conn, kind, leaked):
    """Logs a new session; its close is logged by log_close or, when the
    object is reclaimed without a close, by the finalizer ("gc", or
    "exit" at interpreter shutdown)."""
    pid = conn.info.backend_pid
    test, phase = current_test()
    truth.log("open", pid=pid, test=test, phase=phase, kind=kind,
              leaked=leaked, worker=WORKER)

    def reclaimed():
        if pid not in _closed:
            _closed.add(pid)
            truth.log("close", pid=pid, how="exit" if _exiting else "gc",
                      test=current_test()[0])
    weakref.finalize(conn, reclaimed)
    return pid


def log_close(pid, how):
    if pid not in _closed:
        _closed.add(pid)
        truth.log("close", pid=pid, how=how, test=current_test()[0])


def connect(kind, leaked):
    conn = psycopg2.connect("", application_name=APP)
    log_open(conn, kind, leaked)
    return conn


def close(conn, how="close"):
    pid = conn.info.backend_pid
    conn.close()
    log_close(pid, how)


def tracked_engine(kind, leaked, **kw):
    """create_engine() whose sessions are logged as they open and close."""
    eng = sqlalchemy.create_engine(
        "postgresql+psycopg2://",
        connect_args={"application_name": APP}, **kw)

    @event.listens_for(eng, "connect")
    def on_connect(dbapi_conn, record):
        record.info["pid"] = log_open(dbapi_conn, kind, leaked)

    @event.listens_for(eng, "close")
    def on_close(dbapi_conn, record):
        log_close(record.info.get("pid"), "dispose")
    return eng


# --- which tests leak -----------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "leak_capable: the test leaks when SUITE_LEAK names it")


def pytest_collection_modifyitems(session, config, items):
    capable = sorted(i.name for i in items
                     if i.get_closest_marker("leak_capable"))
    spec = os.environ.get("SUITE_LEAK")
    seed = os.environ.get("SUITE_LEAK_SEED")
    if seed is not None:
        count = int(os.environ.get("SUITE_LEAK_COUNT", "5"))
        # Every xdist worker collects the same items: the same pick.
        chosen = random.Random(int(seed)).sample(capable,
                                                 min(count, len(capable)))
    else:
        if spec is None:
            spec = DEFAULT_LEAK
        if spec == "all":
            chosen = capable
        elif spec in ("", "none"):
            chosen = []
        else:
            names = [s.strip() for s in spec.split(",") if s.strip()]
            chosen = [c for c in capable if c in names or
                      c.split("[")[0] in names]
    _leaking.update(chosen)
    truth.log("suite", runner="pytest", app=APP, worker=WORKER,
              leaking=sorted(_leaking), tests=len(items))


@pytest.fixture
def leak(request):
    """True when this test is to leak its session."""
    return request.node.name in _leaking


# --- test boundaries in the ground truth ----------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # Runs only in the process that runs the test (an xdist worker, not
    # the controller): around setup, call and teardown.
    _current["test"] = item.nodeid
    truth.log("test_start", name=item.nodeid, worker=WORKER,
              leaks=item.name in _leaking)
    yield
    truth.log("test_end", name=item.nodeid, worker=WORKER)
    _current["test"] = None


def pytest_unconfigure(config):
    _exiting.append(1)
    truth.log("exit", worker=WORKER)


# --- shared fixtures ------------------------------------------------------

@pytest.fixture
def pause():
    """Each test's own work, so that the suite takes realistic time."""
    return lambda: time.sleep(TEST_MS / 1000)


_warm = {}


@pytest.fixture
def warm_engine():
    """A module-level engine: warmed (two sessions) by the first test that
    uses it, reused by later tests, never disposed; not a leak."""
    if "engine" not in _warm:
        eng = tracked_engine("warm-pool", False, pool_size=2)
        a = eng.connect()
        b = eng.connect()
        a.execute(text("SELECT 1"))
        b.execute(text("SELECT 1"))
        a.close()
        b.close()
        _warm["engine"] = eng
    return _warm["engine"]


def lookup(eng):
    with eng.connect() as c:
        return c.execute(text("SELECT count(*) FROM pg_class")).scalar()


class LoggedPool(psycopg2.pool.ThreadedConnectionPool):
    def _connect(self, key=None):
        conn = super()._connect(key)
        log_open(conn, "session-fixture", False)
        return conn


@pytest.fixture(scope="session")
def shared_pool():
    """A session-scoped pool: opened by the first test that asks for it,
    shared by later ones, closed when the session ends; not a leak."""
    pool = LoggedPool(2, 4, "", application_name=APP)
    yield pool
    pids = [c.info.backend_pid for c in pool._pool]
    pool.closeall()
    for pid in pids:
        log_close(pid, "fixture-teardown")
