'use strict';
// A file node --test runs that does not use node:test (it passes by
// exiting 0): pgdrip must not give it a test harness, which would print.
require('assert').strictEqual(1 + 1, 2);
