'use strict';
require('../lib/specs').catalog({
	describe, it, beforeAll: before, afterAll: after,
});
