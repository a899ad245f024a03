"""pgdrip's marks for Python's unittest: tells a wrapping pgdrip where
each test starts and ends with no change to the suite, for
``python -m unittest`` and any runner built on unittest (Django's
DiscoverRunner, a TextTestRunner of one's own).

sitecustomize.py installs it in wrap mode (PGDRIP_TESTS set,
PGDRIP_TEST_PLUGINS not 0).  It only puts a finder on sys.meta_path: when
the program imports unittest, TestCase.run is wrapped so that each
test (its setUp, body and tearDown) is one window, "start ID" before it
and "end ID" after it (ID is TestCase.id(), e.g. test_shop.ShopTest.
test_reserve), each waiting for pgdrip's answer.  A program that never
imports unittest pays nothing more.

Never when pytest runs the test (it runs unittest cases itself, and its
own plugin marks them): PYTEST_CURRENT_TEST is set then.  A test run
inside another's window (a suite run from a test) is part of it.
"""
import os
import sys

# The name of the test whose window is open in this process, if any.
_open = [None]


def _wrap(orig, endpoint, publish):
    """TestCase.run, each test marked on endpoint and published to the
    client hooks."""

    def run(self, result=None):
        if _open[0] is not None or "PYTEST_CURRENT_TEST" in os.environ:
            return orig(self, result)
        try:
            name = self.id()
        except Exception:
            name = type(self).__name__
        _open[0] = name
        endpoint.mark("start", name)
        publish(name)
        try:
            return orig(self, result)
        finally:
            publish(None)
            _open[0] = None
            endpoint.mark("end", name)

    run.__wrapped__ = orig
    run.__name__ = getattr(orig, "__name__", "run")
    run.__doc__ = getattr(orig, "__doc__", None)
    return run


def _patch(module):
    """Wraps TestCase.run (pgdrip_marks, and the socket module, are
    imported only now)."""
    case = getattr(module, "TestCase", None)
    if case is not None and not hasattr(case.run, "__wrapped__"):
        import pgdrip_marks

        case.run = _wrap(case.run, pgdrip_marks.Endpoint(),
                         pgdrip_marks.publish)


class _Loader:
    """The real loader of unittest, then the patch."""

    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        create = getattr(self.real, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        for finder in list(sys.meta_path):
            if isinstance(finder, _Finder):
                sys.meta_path.remove(finder)
        module.__loader__ = self.real
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self.real
        self.real.exec_module(module)
        try:
            _patch(module)
        except Exception:
            # The suite runs as it would without pgdrip.
            pass

    def __getattr__(self, attr):
        return getattr(self.real, attr)


class _Finder:
    """Looks at one name, unittest, until it is imported (runpy, for
    python -m unittest, asks for its spec first, then imports it)."""

    busy = False

    def find_spec(self, name, path=None, target=None):
        if name != "unittest" or self.busy:
            return None
        import importlib.util

        self.busy = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        if spec is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Loader(spec.loader)
        return spec


def install():
    """Patches unittest now if it is imported, else when it is."""
    if "unittest" in sys.modules:
        _patch(sys.modules["unittest"])
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
