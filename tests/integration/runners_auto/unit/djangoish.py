"""A runner built as Django's DiscoverRunner is: discover the tests,
run them with unittest.TextTestRunner, exit 1 on a failure."""
import sys
import unittest


def main():
    suite = unittest.defaultTestLoader.discover(".", pattern="test_*.py")
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
