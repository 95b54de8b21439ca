/* SPDX-License-Identifier: MIT
 *
 * Named injection points for tests (PostgreSQL injection points). Built only with
 * SILT_INJECTION. SILT_INJECT="name:action[,name:action...]"; actions: "abort" kills the
 * process with SIGKILL at that point (a crash between two steps), "error" makes INJECT()
 * return SILT_EIO, and "abort@N" / "error@N" act only on the N-th hit. */
#include "util.h"

#ifdef SILT_INJECTION
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static _Atomic int hits[64];

int silt_inject_hit(const char *name) {
    const char *spec = getenv("SILT_INJECT");
    if (!spec || !*spec) return 0;
    size_t nl = strlen(name);
    int idx = 0;
    for (const char *p = spec; *p; idx++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && memcmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *act = p + nl + 1;
            size_t an = len - nl - 1;
            long nth = 1;
            const char *at = memchr(act, '@', an);
            if (at) {
                nth = strtol(at + 1, NULL, 10);
                an = (size_t)(at - act);
            }
            int h = idx < 64 ? ++hits[idx] : 1;
            if (!at || h == nth) {
                if (an == 5 && memcmp(act, "abort", 5) == 0) {
                    log_error("inject", "injection point %s: abort", name);
                    kill(getpid(), SIGKILL);
                    _exit(137);
                }
                if (an == 5 && memcmp(act, "error", 5) == 0) return SILT_EIO;
            }
        }
        if (!end) break;
        p = end + 1;
    }
    return 0;
}
#endif
