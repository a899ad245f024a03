"""unittest, no pgdrip line anywhere: test_reserve_pears_short leaks a
checkout; the pool's connection rests between the other tests."""
import unittest

import shop


class ShopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pool = shop.make_pool("runauto-unittest")

    def test_counts(self):
        self.assertEqual(shop.count(self.pool), 3)

    def test_reserve_pears_short(self):
        try:
            shop.reserve(self.pool, 9)
        except ValueError as exc:
            self.assertIn("short", str(exc))

    def test_reserve_apples(self):
        self.assertEqual(shop.reserve(self.pool, 2), -3)


if __name__ == "__main__":
    unittest.main()
