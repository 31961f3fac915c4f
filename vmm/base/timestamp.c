/* Parsing --since and --until (timestamp.h). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/base/timestamp.h"
#include "vmm/base/util.h"

#define NS 1000000000LL

/* n digits at *p as a number; false if they are not all digits. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* ".123456789": the fraction of a second in ns (at most 9 digits count). */
static const char *fraction(const char *p, int64_t *ns)
{
	int64_t scale = NS / 10;

	*ns = 0;
	if (*p != '.')
		return p;
	if (!isdigit((unsigned char)*++p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++, scale /= 10)
		*ns += (*p - '0') * scale;
	return p;
}

static int rfc3339(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	const char *p = s;
	int64_t frac = 0, off = 0;
	bool local = true;
	time_t t;
	int v;

	if (!digits(&p, 4, &v) || *p++ != '-')
		return -EINVAL;
	tm.tm_year = v - 1900;
	if (!digits(&p, 2, &v) || v < 1 || v > 12 || *p++ != '-')
		return -EINVAL;
	tm.tm_mon = v - 1;
	if (!digits(&p, 2, &v) || v < 1 || v > 31)
		return -EINVAL;
	tm.tm_mday = v;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &tm.tm_hour) || tm.tm_hour > 23 || *p++ != ':' ||
		    !digits(&p, 2, &tm.tm_min) || tm.tm_min > 59)
			return -EINVAL;
		if (*p == ':' && (p++, !digits(&p, 2, &tm.tm_sec) || tm.tm_sec > 60))
			return -EINVAL;
		if (!(p = fraction(p, &frac)))
			return -EINVAL;
	}
	if (*p == 'Z' || *p == 'z') {
		local = false;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, h, m;

		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &m) || h > 23 || m > 59)
			return -EINVAL;
		off = sign * (h * 3600 + m * 60);
		local = false;
	}
	if (*p)
		return -EINVAL;
	if (local) {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	} else {
		t = timegm(&tm) - off;
	}
	*ns = (int64_t)t * NS + frac;
	return 0;
}

/* 1h30m, 10m, 1.5s, 250ms: ns. */
static int duration(const char *s, int64_t *ns)
{
	static const struct { const char *unit; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "µs", 1000 }, { "ms", 1000000 }, { "s", NS },
		{ "m", 60 * NS }, { "h", 3600 * NS },
	};
	const char *p = s;

	*ns = 0;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		size_t best = 0;
		int64_t scale = 0;

		if (end == p || *p == '-' || *p == '+' || !isdigit((unsigned char)*p))
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);

			if (!strncmp(end, units[i].unit, n) && n > best) {
				best = n;
				scale = units[i].ns;
			}
		}
		if (!best || v * scale > 1e18)
			return -EINVAL;
		*ns += (int64_t)(v * scale);
		p = end + best;
	}
	return p == s ? -EINVAL : 0;
}

int duration_parse(const char *s, int64_t *ns)
{
	uint64_t secs;

	if (!parse_uint(s, 0, INT64_MAX / NS, &secs)) {
		*ns = (int64_t)secs * NS;	/* plain seconds, as timeout(1) takes them */
		return 0;
	}
	return duration(s, ns);
}

int timestamp_parse(const char *s, int64_t now_ns, int64_t *ns)
{
	const char *p = s;
	int64_t d, frac;

	if (!s || !*s)
		return -EINVAL;
	if (strchr(s, '-') && !rfc3339(s, ns))
		return 0;
	/* Unix seconds: digits, maybe a fraction. */
	while (isdigit((unsigned char)*p))
		p++;
	if (p != s && p - s <= 12 && (p = fraction(p, &frac)) && !*p) {
		*ns = strtoll(s, NULL, 10) * NS + frac;
		return 0;
	}
	if (!duration(s, &d)) {
		*ns = now_ns - d;
		return 0;
	}
	return -EINVAL;
}
