/*
 * docker's --restart: no, on-failure[:N], always, unless-stopped. vmm has no
 * daemon: the container's own vmm process runs its VM again when the policy
 * says so, after docker's backoff (100 ms, doubling up to a minute, back to
 * 100 ms after a run of 10 s or more). A `vmm stop` or `vmm kill` is a manual
 * stop: no restart follows. Across a host reboot nothing restarts by itself:
 * a boot-time `vmm start` (a systemd unit) does what docker's daemon does.
 */
#ifndef VMM_ENGINE_RESTART_H
#define VMM_ENGINE_RESTART_H

#include <stdbool.h>
#include <stdint.h>

struct error;

enum restart_mode { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART_UNLESS_STOPPED };

struct restart_policy {
	enum restart_mode mode;
	unsigned max_retries;	/* on-failure:N; 0: no limit */
};

/* "no", "on-failure", "on-failure:3", "always", "unless-stopped" ("" is "no"). 0, or -EINVAL with e. */
int restart_policy_parse(const char *s, struct restart_policy *out, struct error *e);
/* The policy's docker name: "no", "on-failure", "always", "unless-stopped". */
const char *restart_mode_name(enum restart_mode m);
/* The same, from the name (the Engine API's RestartPolicy.Name). 0, or -EINVAL. */
int restart_mode_parse(const char *name, enum restart_mode *m);

/* After a run that ended with status: run again? (restarts: how many were done.) */
bool restart_wanted(const struct restart_policy *p, int status, bool manual_stop, unsigned restarts);
/* The wait before the next run: the last one's doubled (from 100 ms, at most a minute), or 100 ms after a run of 10 s. */
uint64_t restart_delay_ms(uint64_t last_ms, int64_t ran_ns);

#endif
