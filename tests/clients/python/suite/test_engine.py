"""An engine per test: the fixture calls create_engine() and, when the
test is to leak, never calls dispose().  Nothing keeps the engine after
the test, but it sits in reference cycles, so its pooled session stays
open until the garbage collector happens to run: the count climbs in a
sawtooth."""
import pytest
from sqlalchemy import text

from conftest import tracked_engine


@pytest.fixture
def engine(leak):
    eng = tracked_engine("engine-not-disposed" if leak else "engine",
                         leaked=leak)
    yield eng
    if not leak:
        eng.dispose()


@pytest.mark.leak_capable
@pytest.mark.parametrize("n", range(8))
def test_report_engine(n, engine, pause):
    with engine.connect() as c:
        rows = c.execute(text("SELECT generate_series(1, :n + 1)"),
                         {"n": n}).fetchall()
    assert len(rows) == n + 1
    pause()
