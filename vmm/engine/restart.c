/* docker's restart policies (restart.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/restart.h"

static const char *const names[] = {
	[RESTART_NO] = "no", [RESTART_ON_FAILURE] = "on-failure", [RESTART_ALWAYS] = "always",
	[RESTART_UNLESS_STOPPED] = "unless-stopped",
};

const char *restart_mode_name(enum restart_mode m)
{
	return m <= RESTART_UNLESS_STOPPED ? names[m] : "no";
}

int restart_mode_parse(const char *name, enum restart_mode *m)
{
	if (!*name) {
		*m = RESTART_NO;
		return 0;
	}
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			*m = i;
			return 0;
		}
	return -EINVAL;
}

int restart_policy_parse(const char *s, struct restart_policy *out, struct error *e)
{
	const char *colon = strchr(s, ':');
	char name[32];
	uint64_t n = 0;

	*out = (struct restart_policy){ RESTART_NO, 0 };
	snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
	if (restart_mode_parse(name, &out->mode) || (colon && parse_uint(colon + 1, 0, 1u << 30, &n)))
		return err_set(e, -EINVAL, "invalid restart policy '%s': no, on-failure[:MAX-RETRIES], "
			       "always or unless-stopped", s);
	if (colon && out->mode != RESTART_ON_FAILURE)
		return err_set(e, -EINVAL, "invalid restart policy '%s': only on-failure takes a "
			       "maximum retry count", s);
	out->max_retries = n;
	return 0;
}

bool restart_wanted(const struct restart_policy *p, int status, bool manual_stop, unsigned restarts)
{
	if (manual_stop)
		return false;
	switch (p->mode) {
	case RESTART_ON_FAILURE:
		return status != 0 && (!p->max_retries || restarts < p->max_retries);
	case RESTART_ALWAYS:
	case RESTART_UNLESS_STOPPED:
		return true;
	default:
		return false;
	}
}

uint64_t restart_delay_ms(uint64_t last_ms, int64_t ran_ns)
{
	if (!last_ms || ran_ns >= 10 * 1000000000LL)
		return 100;
	return last_ms >= 30000 ? 60000 : last_ms * 2;
}
