"""Runs last: the session-scoped pool and the warm engine are used again,
long after they were opened."""
from conftest import lookup
from test_shared import use


def test_last_uses_shared_pool(shared_pool, pause):
    assert use(shared_pool, 41) == 42
    pause()


def test_last_uses_warm_engine(warm_engine, pause):
    assert lookup(warm_engine) > 0
    pause()
