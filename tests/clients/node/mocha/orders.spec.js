'use strict';
require('../lib/specs').orders({
	describe, it, beforeAll: before, afterAll: after,
});
