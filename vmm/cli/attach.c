/*
 * vmm attach: follow a running container's output from now on, pass our
 * signals to its process (docker's --sig-proxy), and end with its exit
 * status, or leave it running on the detach keys (ctrl-p ctrl-q) typed on
 * our terminal. The container's stdin is not attached: it is the agent's
 * from the start (vmm run -i), or closed.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/logread.h"

#define MAX_KEYS 16

struct attach {
	struct cli *cli;
	const char *ref;
	int sig_fd;		/* our SIGINT, SIGTERM, SIGHUP, SIGQUIT: -1 without --sig-proxy */
	bool keys_on;		/* stdin is a terminal: watch it for the detach keys */
	unsigned char keys[MAX_KEYS];
	unsigned nkeys, matched;
	bool detached;
};

/* docker's --detach-keys: "ctrl-p,ctrl-q", letters, "ctrl-@", "ctrl-[" ... 0 or -EINVAL. */
static int parse_keys(const char *s, struct attach *a)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	a->nkeys = 0;
	for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		if (a->nkeys == MAX_KEYS)
			return -EINVAL;
		if (strlen(k) == 1)
			a->keys[a->nkeys++] = (unsigned char)k[0];
		else if (!strncmp(k, "ctrl-", 5) && strlen(k) == 6 && ((k[5] >= 'a' && k[5] <= 'z') ||
								    strchr("@[\\]^_", k[5])))
			a->keys[a->nkeys++] = k[5] >= 'a' ? k[5] - 'a' + 1 : k[5] - '@';
		else
			return -EINVAL;
	}
	return a->nkeys ? 0 : -EINVAL;
}

/* What came on stdin: the detach keys, in order, detach. */
static void read_keys(struct attach *a)
{
	unsigned char buf[64];
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	ssize_t n;

	if (!a->keys_on || poll(&p, 1, 0) <= 0 || (n = read(STDIN_FILENO, buf, sizeof(buf))) <= 0)
		return;
	for (ssize_t i = 0; i < n && !a->detached; i++) {
		a->matched = buf[i] == a->keys[a->matched] ? a->matched + 1 : buf[i] == a->keys[0];
		a->detached = a->matched == a->nkeys;
	}
}

/* Our signals to the container's process (docker's sig-proxy). */
static void proxy_signals(struct attach *a)
{
	struct signalfd_siginfo si;

	while (a->sig_fd >= 0 && read(a->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		struct error e = { 0 };

		if (engine_kill(&a->cli->paths, a->ref, (int)si.ssi_signo, &e))
			cli_fail(&e, 1);
	}
}

static int sink(void *arg, enum log_stream s, const char *time, const char *data, size_t len)
{
	struct attach *a = arg;
	FILE *out = s == LOG_STDERR ? stderr : stdout;

	(void)time;
	if (data) {
		fwrite(data, 1, len, out);
		fflush(out);
	}
	proxy_signals(a);
	read_keys(a);
	return a->detached ? -1 : 0;
}

static void usage(void)
{
	printf("Usage: vmm attach [OPTIONS] CONTAINER\n\n"
	       "Follow a running container's output from now on; end with its exit status.\n\n"
	       "      --detach-keys KEYS  leave it running on these keys typed on our terminal\n"
	       "                          (default ctrl-p,ctrl-q)\n"
	       "      --sig-proxy BOOL    pass our SIGINT, SIGTERM, SIGHUP, SIGQUIT to its process\n"
	       "                          (default true)\n"
	       "      --no-stdin          accepted: the container's stdin is not attached anyway\n");
}

int cmd_attach(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach-keys", required_argument, NULL, 'k' },
		{ "sig-proxy", required_argument, NULL, 's' },
		{ "no-stdin", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct attach a = { .cli = cli, .sig_fd = -1, .keys = { 16, 17 }, .nkeys = 2 };
	struct log_read_opts o = { .tail = 0, .follow = true, .sink = sink, .arg = &a };
	struct termios saved, raw;
	struct container *ct;
	struct container_state st;
	struct error e = { 0 };
	bool proxy = true, restore = false;
	sigset_t set;
	int c, status;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (parse_keys(optarg, &a))
				return cli_usage_error("attach", "--detach-keys %s: keys like ctrl-p,ctrl-q "
						       "(a letter, or ctrl- and a letter or one of @[\\]^_)", optarg);
			break;
		case 's':
			if (strcmp(optarg, "true") && strcmp(optarg, "false"))
				return cli_usage_error("attach", "--sig-proxy %s: true or false", optarg);
			proxy = !strcmp(optarg, "true");
			break;
		case 'n': break;
		case 'h': usage(); return 0;
		default: return cli_bad_option("attach", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("attach", "requires exactly one CONTAINER");
	a.ref = argv[optind];
	if (container_open(cli->paths.root, a.ref, &ct, &e))
		return cli_fail(&e, 1);
	container_effective_state(ct, &st);
	if (st.status != CONTAINER_RUNNING) {
		container_free(ct);
		err_set(&e, -ESRCH, "you cannot attach to a stopped container, start it first");
		return cli_fail(&e, 1);
	}
	if (proxy) {
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGQUIT);
		sigprocmask(SIG_BLOCK, &set, NULL);
		a.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);	/* keys one by one; ctrl-c stays a signal */
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		a.keys_on = true;
	}
	if (engine_logs(ct, &o, &e))
		cli_fail(&e, 1);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (a.sig_fd >= 0)
		close(a.sig_fd);
	if (a.detached) {
		fprintf(stderr, "read escape sequence\n");	/* docker's words */
		status = 0;
	} else {
		container_wait(ct);
		container_reload_state(ct);
		container_effective_state(ct, &st);
		status = st.restarting ? 0 : st.exit_code;
	}
	container_free(ct);
	return status;
}
