"""Runs first: warms the module-level engine later tests reuse."""
from conftest import lookup


def test_warm_pool(warm_engine, pause):
    assert lookup(warm_engine) > 0
    pause()


def test_warm_pool_reused(warm_engine, pause):
    assert lookup(warm_engine) > 0
    pause()
