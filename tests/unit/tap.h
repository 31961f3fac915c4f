/* A ten-line TAP harness for the C unit tests: ok(cond, "what"), then return tap_done(). */
#ifndef VMM_TESTS_TAP_H
#define VMM_TESTS_TAP_H
#include <stdio.h>
static int tap_count, tap_failed;
#define ok(cond, ...) do { int ok_ = !!(cond); tap_count++; if (!ok_) tap_failed++; \
	printf("%sok %d - ", ok_ ? "" : "not ", tap_count); printf(__VA_ARGS__); \
	printf(ok_ ? "\n" : "  (%s:%d)\n", __FILE__, __LINE__); fflush(stdout); } while (0)
#define skip(why, ...) do { tap_count++; printf("ok %d - ", tap_count); printf(__VA_ARGS__); \
	printf(" # SKIP %s\n", why); } while (0)
static inline int tap_done(void) { printf("1..%d\n", tap_count); return tap_failed ? 1 : 0; }
#endif
