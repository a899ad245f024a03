'use strict';
require('../lib/specs').reports({ describe, it, beforeAll, afterAll });
