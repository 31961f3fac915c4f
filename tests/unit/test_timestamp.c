/* timestamp_parse: the forms docker's --since and --until take. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "vmm/base/timestamp.h"

#define NS 1000000000LL

static void is(const char *s, int64_t now, int64_t want)
{
	int64_t got = -1;
	int ret = timestamp_parse(s, now, &got);

	ok(ret == 0 && got == want, "%s: %lld (got %d, %lld)", s, (long long)want, ret, (long long)got);
}

static void bad(const char *s)
{
	int64_t got;

	ok(timestamp_parse(s, 0, &got) == -EINVAL, "%s: refused", s);
}

int main(void)
{
	const int64_t t = 1764745300LL;	/* 2025-12-03T07:01:40Z */

	setenv("TZ", "UTC", 1);
	is("2025-12-03T07:01:40Z", 0, t * NS);
	is("2025-12-03T07:01:40.5Z", 0, t * NS + NS / 2);
	is("2025-12-03T07:01:40.123456789Z", 0, t * NS + 123456789);
	is("2025-12-03T08:01:40+01:00", 0, t * NS);
	is("2025-12-03T06:31:40-00:30", 0, t * NS);
	is("2025-12-03T07:01:40", 0, t * NS);		/* local time (TZ=UTC here) */
	is("2025-12-03T07:01Z", 0, (t - 40) * NS);
	is("2025-12-03", 0, (t - 7 * 3600 - 60 - 40) * NS);
	is("1764745300", 0, t * NS);
	is("1764745300.25", 0, t * NS + NS / 4);
	is("1764745300.000000000", 0, t * NS);		/* what the docker CLI sends */
	is("0", 0, 0);
	is("10m", t * NS, (t - 600) * NS);
	is("1h30m", t * NS, (t - 5400) * NS);
	is("1.5s", t * NS, t * NS - NS * 3 / 2);
	is("250ms", t * NS, t * NS - 250000000);
	bad("");
	bad("yesterday");
	bad("10x");
	bad("-10m");
	bad("2025-13-03");
	bad("2025-12-03T25:00:00Z");
	bad("2025-12-03T07:01:40Zjunk");
	bad("12.");
	bad("m");
	{
		int64_t d = -1;

		ok(duration_parse("30", &d) == 0 && d == 30 * NS, "duration: plain seconds, as timeout(1)");
		ok(duration_parse("1h30m", &d) == 0 && d == 5400 * NS, "duration: 1h30m");
		ok(duration_parse("1.5s", &d) == 0 && d == NS + NS / 2, "duration: 1.5s");
		ok(duration_parse("soon", &d) == -EINVAL && duration_parse("", &d) == -EINVAL &&
		   duration_parse("-5s", &d) == -EINVAL && duration_parse("5x", &d) == -EINVAL,
		   "duration: soon, empty, negative and unknown units refused");
	}
	return tap_done();
}
