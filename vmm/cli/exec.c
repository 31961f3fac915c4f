/* vmm exec: run another process in a running container (same namespaces, cgroup, disk). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/base/strv.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/ctl-client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/ctl.h"
#include "vmm/base/log.h"

/* The container's environment with -e entries replacing or adding keys. */
static json_object *merged_env(char *const *base, char **extra, size_t nextra)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; base && base[i]; i++) {
		size_t k = strcspn(base[i], "=");
		bool replaced = false;

		for (size_t j = 0; j < nextra; j++)
			replaced |= !strncmp(extra[j], base[i], k) && extra[j][k] == '=';
		if (!replaced)
			json_object_array_add(a, json_object_new_string(base[i]));
	}
	for (size_t j = 0; j < nextra; j++)
		if (strchr(extra[j], '='))
			json_object_array_add(a, json_object_new_string(extra[j]));
	return a;
}

static void send_resize(int fd)
{
	struct winsize ws;
	json_object *o;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "op", json_object_new_string("resize"));
	json_object_object_add(o, "rows", json_object_new_int(ws.ws_row));
	json_object_object_add(o, "cols", json_object_new_int(ws.ws_col));
	ctl_send(fd, o, NULL, 0);
	json_object_put(o);
}

/* Wait for the exec's events; forward our signals (and window size) meanwhile. */
static int wait_exit(int fd, bool tty)
{
	struct ctl_reader rd = { 0 };
	sigset_t set;
	int sfd, status = EXIT_VMM_ERROR;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		json_object *msg, *v;
		int got[CTL_MAX_FDS], ret;
		unsigned ngot;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH) {
					if (tty)
						send_resize(fd);
				} else {
					json_object *o = json_object_new_object();

					json_object_object_add(o, "op", json_object_new_string("signal"));
					json_object_object_add(o, "signal", json_object_new_int(si.ssi_signo));
					ctl_send(fd, o, NULL, 0);
					json_object_put(o);
				}
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		while ((ret = ctl_recv(fd, &rd, &msg, got, &ngot)) == 1) {
			for (unsigned i = 0; i < ngot; i++)
				close(got[i]);
			if (json_object_object_get_ex(msg, "error", &v) && !json_object_object_get_ex(msg, "event", NULL)) {
				pr_err("%s", json_object_get_string(v));
				json_object_put(msg);
				goto out;
			}
			if (json_object_object_get_ex(msg, "event", &v) &&
			    !strcmp(json_object_get_string(v), "exit")) {
				json_object *code, *err;

				if (json_object_object_get_ex(msg, "error", &err))
					pr_err("%s", json_object_get_string(err));
				status = json_object_object_get_ex(msg, "code", &code) ? json_object_get_int(code)
										       : EXIT_VMM_ERROR;
				json_object_put(msg);
				goto out;
			}
			json_object_put(msg);
		}
		if (ret < 0) {
			pr_err("the container's vmm process went away");
			break;
		}
	}
out:
	ctl_reader_free(&rd);
	close(sfd);
	return status;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "detach", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool interactive = false, tty = false;
	const char *workdir = NULL, *user = NULL;
	char **env = NULL;
	size_t nenv = 0;
	struct container *ct;
	struct termios saved;
	bool raw = false;
	json_object *req;
	int c, fd, status, fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };

	while ((c = getopt_long(argc, argv, "+ite:w:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': interactive = true; break;
		case 't': tty = true; break;
		case 'e': {
			char **n = realloc(env, (nenv + 1) * sizeof(*env));

			if (!n)
				return EXIT_VMM_ERROR;
			env = n;
			env[nenv++] = optarg;
			break;
		}
		case 'w': workdir = optarg; break;
		case 'u': user = optarg; break;
		case 'h':
			printf("Usage: vmm exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]\n\n"
			       "Run a command in a running container (its namespaces, cgroup and disk).\n");
			free(env);
			return 0;
		default:
			free(env);
			return cli_bad_option("exec", argv);
		}
	}
	if (argc - optind < 2) {
		free(env);
		return cli_usage_error("exec", "requires a CONTAINER and a COMMAND");
	}
	if (cli_ctl_connect(cli, argv[optind], &ct, &fd)) {
		free(env);
		return EXIT_VMM_ERROR;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("exec"));
	json_object_object_add(req, "argv", strv_to_json(argv + optind + 1));
	json_object_object_add(req, "env", merged_env(ct->cfg.env, env, nenv));
	if (workdir || ct->cfg.workdir)
		json_object_object_add(req, "cwd", json_object_new_string(workdir ? workdir : ct->cfg.workdir));
	if (user || ct->cfg.user)
		json_object_object_add(req, "user", json_object_new_string(user ? user : ct->cfg.user));
	json_object_object_add(req, "tty", json_object_new_boolean(tty));
	json_object_object_add(req, "stdin", json_object_new_boolean(interactive));
	if (tty) {
		struct winsize ws;

		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
			json_object_object_add(req, "rows", json_object_new_int(ws.ws_row));
			json_object_object_add(req, "cols", json_object_new_int(ws.ws_col));
		}
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
			struct termios t = saved;

			cfmakeraw(&t);
			raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0;
		}
	}
	ctl_send(fd, req, fds, 3);
	json_object_put(req);
	status = wait_exit(fd, tty);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	close(fd);
	container_free(ct);
	free(env);
	return status;
}
