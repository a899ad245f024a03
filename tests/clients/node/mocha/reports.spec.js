'use strict';
require('../lib/specs').reports({
	describe, it, beforeAll: before, afterAll: after,
});
