#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/ctl-client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/ctl.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

int cli_ctl_connect(struct cli *cli, const char *ref, struct container **ct, int *fd)
{
	char path[256];
	int ret = container_open(cli->paths.root, ref, ct);

	if (ret)
		return ret;
	if (!container_is_running(*ct)) {
		pr_err("container %s is not running", ref);
		container_free(*ct);
		*ct = NULL;
		return -ESRCH;
	}
	ret = ctl_path(cli->paths.runtime, (*ct)->cfg.id, path, sizeof(path));
	if (!ret)
		*fd = ret = ctl_connect(path);
	if (ret < 0) {
		pr_err("container %s: cannot reach its vmm process at %s: %s", ref, path, strerror(-ret));
		container_free(*ct);
		*ct = NULL;
		return ret;
	}
	return 0;
}

int cli_ctl_call(int fd, json_object *req, const int *fds, unsigned nfds, json_object **reply)
{
	struct ctl_reader rd = { 0 };
	json_object *err;
	int got[CTL_MAX_FDS], ret;
	unsigned ngot;

	ret = ctl_send(fd, req, fds, nfds);
	json_object_put(req);
	if (ret)
		return ret;
	while ((ret = ctl_recv(fd, &rd, reply, got, &ngot)) == 0)
		;
	ctl_reader_free(&rd);
	if (ret < 0) {
		pr_err("the container's vmm process went away");
		return -EIO;
	}
	for (unsigned i = 0; i < ngot; i++)
		close(got[i]);
	if (json_object_object_get_ex(*reply, "error", &err)) {
		pr_err("%s", json_object_get_string(err));
		json_object_put(*reply);
		*reply = NULL;
		return -EIO;
	}
	return 0;
}

int cli_parse_signal(const char *s)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
		{ "CONT", SIGCONT }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH }, { "PIPE", SIGPIPE },
	};
	uint64_t n;

	if (!parse_uint(s, 1, 64, &n))
		return n;
	if (str_has_prefix(s, "SIG"))
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (!strcasecmp(s, sigs[i].name))
			return sigs[i].sig;
	return 0;
}
