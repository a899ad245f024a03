"""pgdrip's start-up hook for every Python process of a wrapped command.

pgdrip puts this file's directory first on PYTHONPATH, so Python's site
module imports it as ``sitecustomize``.  It runs whatever other
sitecustomize Python would have found later on sys.path (Debian's own,
a virtualenv's, the user's), so that one still runs and is what
``import sitecustomize`` gives, and then, in wrap mode (PGDRIP_HOOKS
set, PGDRIP_CLIENT_HOOKS not 0), loads pgdrip_hooks, which only
installs an import hook: the database libraries are patched when the
program imports them, and a program that never does pays nothing more.
With PGDRIP_TESTS set (and PGDRIP_TEST_PLUGINS not 0) it also loads
pgdrip_unittest, which marks each unittest test once unittest is
imported (python -m unittest, Django's runner).
"""
import os
import sys


def _chain():
    """Runs the next sitecustomize on sys.path, as if ours were not there."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    rest = []
    for entry in sys.path:
        try:
            same = os.path.abspath(entry or os.curdir) == here
        except (TypeError, ValueError):
            same = False
        if not same:
            rest.append(entry)
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


def _marks_wanted():
    return (os.environ.get("PGDRIP_TESTS", "") != "" and
            os.environ.get("PGDRIP_TEST_PLUGINS", "") != "0")


def _hooks_wanted():
    return (os.environ.get("PGDRIP_HOOKS", "") != "" and
            os.environ.get("PGDRIP_CLIENT_HOOKS", "") != "0")


try:
    # An error in the user's sitecustomize is reported by site.py as it
    # would be without pgdrip; the hooks load all the same.
    _chain()
finally:
    if _hooks_wanted():
        try:
            import pgdrip_hooks

            pgdrip_hooks.install()
        except Exception:
            # The hooks never change what the program does.
            pass
    if _marks_wanted():
        try:
            import pgdrip_unittest

            pgdrip_unittest.install()
        except Exception:
            pass
