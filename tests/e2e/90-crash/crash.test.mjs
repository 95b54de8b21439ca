// SPDX-License-Identifier: MIT
//
// The crash suite lives in tests/crash/ (STYLE.md); importing it here registers its tests
// in this file's process, so `node --test` from tests/e2e (make test-e2e) runs it too.
import '../../crash/crash.test.mjs';
