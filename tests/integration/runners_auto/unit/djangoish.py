"""A runner built as Django's DiscoverRunner is: discover the tests,
run them with unittest.TextTestRunner, exit 1 on a failure.  With
--parallel N, as Django's ParallelTestSuite: each TestCase class is run
in a worker of a fork()ed multiprocessing pool (the workers find the
suites in a global, as Django's do), the main process prints the total
and its pid.
"""
import multiprocessing
import os
import sys
import unittest

_SUBSUITES = []


def _classes(suite):
    """The suite's tests, one TestSuite per TestCase class."""
    by_class = {}
    stack = [suite]
    while stack:
        item = stack.pop(0)
        if isinstance(item, unittest.TestSuite):
            stack[:0] = list(item)
        else:
            by_class.setdefault(type(item), unittest.TestSuite()).addTest(item)
    return list(by_class.values())


def _run_subsuite(index):
    result = unittest.TestResult()
    _SUBSUITES[index].run(result)
    return result.testsRun, len(result.failures) + len(result.errors)


def run_parallel(suite, workers):
    _SUBSUITES[:] = _classes(suite)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        counts = pool.map(_run_subsuite, range(len(_SUBSUITES)))
    ran = sum(n for n, _ in counts)
    bad = sum(b for _, b in counts)
    print("Ran %d tests in %d processes from %d: %s" % (
        ran, workers, os.getpid(), "OK" if bad == 0 else "FAILED (%d)" % bad))
    return bad == 0


def main(argv):
    suite = unittest.defaultTestLoader.discover(".", pattern="test_*.py")
    if len(argv) == 2 and argv[0] == "--parallel":
        return 0 if run_parallel(suite, int(argv[1])) else 1
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
