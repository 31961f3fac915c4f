/* The times people give docker's --since and --until. */
#ifndef VMM_BASE_TIMESTAMP_H
#define VMM_BASE_TIMESTAMP_H

#include <stdint.h>

/*
 * s as ns since the epoch: RFC 3339 (2026-12-03T07:01:40.5Z, an offset such
 * as +01:00, or none: local time), a date (2026-12-03), unix seconds with an
 * optional fraction (1764745300.25), or a Go duration before now_ns (10m,
 * 1h30m, 1.5s). 0, or -EINVAL.
 */
int timestamp_parse(const char *s, int64_t now_ns, int64_t *ns);
/* A Go duration (1h30m, 10m, 1.5s) or whole seconds (30) as ns. 0, or -EINVAL. */
int duration_parse(const char *s, int64_t *ns);

#endif
