'use strict';
require('../lib/specs').catalog({ describe, it, beforeAll, afterAll });
