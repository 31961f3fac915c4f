/* docker's restart policies: parsing, when to run again, the backoff. */
#include <errno.h>
#include <stdio.h>

#include "tap.h"
#include "vmm/base/error.h"
#include "vmm/engine/restart.h"

int main(void)
{
	struct restart_policy p;
	struct error e = { 0 };
	static const char *const bad[] = { "sometimes", "always:3", "on-failure:x", "on-failure:-1", "no:1", "ALWAYS" };

	ok(!restart_policy_parse("no", &p, &e) && p.mode == RESTART_NO, "no");
	ok(!restart_policy_parse("", &p, &e) && p.mode == RESTART_NO, "empty is no");
	ok(!restart_policy_parse("always", &p, &e) && p.mode == RESTART_ALWAYS, "always");
	ok(!restart_policy_parse("unless-stopped", &p, &e) && p.mode == RESTART_UNLESS_STOPPED, "unless-stopped");
	ok(!restart_policy_parse("on-failure", &p, &e) && p.mode == RESTART_ON_FAILURE && !p.max_retries,
	   "on-failure: no limit");
	ok(!restart_policy_parse("on-failure:3", &p, &e) && p.mode == RESTART_ON_FAILURE && p.max_retries == 3,
	   "on-failure:3");
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = (struct error){ 0 };
		ok(restart_policy_parse(bad[i], &p, &e) == -EINVAL && e.msg[0], "%s: refused (%s)", bad[i], e.msg);
	}

	p = (struct restart_policy){ RESTART_ON_FAILURE, 2 };
	ok(restart_wanted(&p, 1, false, 0) && restart_wanted(&p, 1, false, 1), "on-failure:2: twice");
	ok(!restart_wanted(&p, 1, false, 2), "on-failure:2: not a third time");
	ok(!restart_wanted(&p, 0, false, 0), "on-failure: not after a success");
	p = (struct restart_policy){ RESTART_ALWAYS, 0 };
	ok(restart_wanted(&p, 0, false, 100) && restart_wanted(&p, 137, false, 0), "always: after anything");
	ok(!restart_wanted(&p, 0, true, 0), "always: not after a manual stop");
	p = (struct restart_policy){ RESTART_NO, 0 };
	ok(!restart_wanted(&p, 1, false, 0), "no: never");

	ok(restart_delay_ms(0, 0) == 100, "backoff: 100 ms first");
	ok(restart_delay_ms(100, 1000000000) == 200 && restart_delay_ms(25600, 0) == 51200, "backoff: doubles");
	ok(restart_delay_ms(51200, 0) == 60000 && restart_delay_ms(60000, 0) == 60000, "backoff: a minute at most");
	ok(restart_delay_ms(60000, 10000000000LL) == 100, "backoff: back to 100 ms after a 10 s run");
	ok(restart_mode_name(RESTART_UNLESS_STOPPED)[0] == 'u', "names");
	return tap_done();
}
