/*
 * An OCI process's privileges (vmm oci, proto_spec): its rlimits, its five
 * capability sets and no_new_privs, applied around the switch to its user as
 * runc applies them. A docker container's spec sets none of them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest-agent/agent.h"

#define CAP_V3		0x20080522	/* _LINUX_CAPABILITY_VERSION_3 */
#define CAP_MAX		64
#define PR_AMBIENT_RAISE	2	/* PR_CAP_AMBIENT_RAISE */

enum { SET_BOUNDING, SET_EFFECTIVE, SET_INHERITABLE, SET_PERMITTED, SET_AMBIENT };

struct cap_header {
	uint32_t version;
	int pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

int privs_before_user(const struct proto_spec *s, const char **what)
{
	for (unsigned i = 0; i < s->nrlimits; i++) {
		char *end;
		unsigned long res = strtoul(s->rlimits[i], &end, 10);
		struct rlimit rl;

		rl.rlim_cur = strtoull(end, &end, 10);
		rl.rlim_max = strtoull(end, &end, 10);
		if (*end || res >= RLIM_NLIMITS || rl.rlim_cur > rl.rlim_max) {
			*what = "rlimit";
			return -EINVAL;
		}
		if (setrlimit((int)res, &rl) < 0) {
			*what = "rlimit";
			return -errno;
		}
	}
	if (!s->caps_set)
		return 0;
	/* keep the permitted set over setuid; the bounding set goes now, while we may still */
	*what = "capabilities";
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
	for (int c = 0; c < CAP_MAX; c++)
		if (!(s->caps[SET_BOUNDING] & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)	/* EINVAL: past the kernel's last capability */
			return -errno;
	return 0;
}

int privs_after_user(const struct proto_spec *s, const char **what)
{
	struct cap_header h = { .version = CAP_V3 };
	struct cap_data d[2];

	if (s->caps_set) {
		*what = "capabilities";
		for (int i = 0; i < 2; i++)
			d[i] = (struct cap_data){
				.effective = (uint32_t)(s->caps[SET_EFFECTIVE] >> (32 * i)),
				.permitted = (uint32_t)(s->caps[SET_PERMITTED] >> (32 * i)),
				.inheritable = (uint32_t)(s->caps[SET_INHERITABLE] >> (32 * i)),
			};
		if (syscall(SYS_capset, &h, d) < 0)
			return -errno;
		for (int c = 0; c < CAP_MAX; c++)
			if ((s->caps[SET_AMBIENT] & (1ULL << c)) &&
			    prctl(PR_CAP_AMBIENT, PR_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EINVAL)
				return -errno;
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	*what = "no_new_privs";
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
