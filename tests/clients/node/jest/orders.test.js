'use strict';
require('../lib/specs').orders({ describe, it, beforeAll, afterAll });
