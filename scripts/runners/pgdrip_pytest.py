"""pgdrip's pytest plugin: tells a wrapping pgdrip where each test starts
and ends, so its report names the tests that leaked sessions.

pgdrip loads it by itself when it wraps a command (it sets PYTEST_PLUGINS
and PYTHONPATH for the command); nothing in the suite changes.  Outside
pgdrip (PGDRIP_TESTS unset) it does nothing.  Turn it off with
PGDRIP_TEST_PLUGINS=0 in pgdrip's environment, or "-p no:pgdrip_pytest".

Each test (setup, call and teardown) is one window: "start NODEID" before
it, "end NODEID" after it, and "phase call" where its body begins, after
its fixtures (the sessions a fixture warms as a pool are judged as one).  A fixture of wider scope than a function is
set up inside the first test that asks for it; its set-up is a window of
its own ("setup NAME" / "setup-end NAME"), so the sessions it opens (a
session-scoped pool) are never blamed on that test.  Every line waits
for pgdrip's "ok": pgdrip has then sampled the server, so the counts at
each boundary are exact.  Every process (a pytest-xdist worker) has its
own connection, and pgdrip tells them apart by their pid.
"""
import pytest

from pgdrip_marks import Endpoint, publish as _publish

_endpoint = Endpoint()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    _endpoint.mark("start", item.nodeid)
    _publish(item.nodeid)
    try:
        yield
    finally:
        _publish(None)
    _endpoint.mark("end", item.nodeid)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    # The body begins: what its fixtures opened before is a phase apart
    # (a pool one of them warms is judged as one pool).
    _endpoint.mark("phase", "call")
    yield


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_fixture_setup(fixturedef, request):
    scope = getattr(fixturedef, "scope", "function")
    if scope == "function":
        yield
        return
    where = getattr(fixturedef, "baseid", "") or ""
    name = "%s (%s fixture%s)" % (fixturedef.argname, scope,
                                  ", " + where if where else "")
    _endpoint.mark("setup", name)
    yield
    _endpoint.mark("setup-end", name)
