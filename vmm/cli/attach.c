/*
 * vmm attach: follow a running container's output from now on, pass our
 * stdin to its process when it was created with -i (docker's -di then
 * attach), pass our signals to it (docker's --sig-proxy), and end with its
 * exit status, or leave it running on the detach keys (ctrl-p ctrl-q) typed
 * on our terminal. Our stdin's EOF leaves the container's stdin open for
 * the next attach, as docker's does for a detached container.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/base/util.h"
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
	int to_ctr;		/* write end of the container's stdin, or -1 */
	bool detached;		/* set by the stdin thread, read by the log sink */
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

/*
 * The stdin thread: our input to the container (when attached), watched
 * for the detach keys on a terminal. Bytes that begin the key sequence are
 * held back, and sent after all if the sequence breaks.
 */
static void *read_stdin(void *arg)
{
	struct attach *a = arg;
	unsigned char buf[4096], out[4096 + MAX_KEYS];
	ssize_t n;
	bool done = false;

	while (!done && (n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
		size_t len = 0;

		for (ssize_t i = 0; i < n && !done; i++) {
			if (a->keys_on && buf[i] == a->keys[a->matched]) {
				done = ++a->matched == a->nkeys;
				continue;
			}
			memcpy(out + len, a->keys, a->matched);	/* a broken sequence: its bytes after all */
			len += a->matched;
			a->matched = a->keys_on && buf[i] == a->keys[0];
			if (!a->matched)
				out[len++] = buf[i];
		}
		if (a->to_ctr >= 0 && len && write_full(a->to_ctr, out, len)) {
			close(a->to_ctr);	/* the container's stdin went away: keep watching keys */
			a->to_ctr = -1;
		}
	}
	if (a->to_ctr >= 0)
		close(a->to_ctr);
	a->to_ctr = -1;
	/* after what came before the keys went out: the main thread exits on this */
	__atomic_store_n(&a->detached, done, __ATOMIC_RELEASE);
	return NULL;
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
	return __atomic_load_n(&a->detached, __ATOMIC_RELAXED) ? -1 : 0;
}

static void usage(void)
{
	printf("Usage: vmm attach [OPTIONS] CONTAINER\n\n"
	       "Follow a running container's output from now on; end with its exit status.\n\n"
	       "      --detach-keys KEYS  leave it running on these keys typed on our terminal\n"
	       "                          (default ctrl-p,ctrl-q)\n"
	       "      --no-stdin          do not pass our stdin (it is passed when the container\n"
	       "                          was created with -i)\n"
	       "      --sig-proxy BOOL    pass our SIGINT, SIGTERM, SIGHUP, SIGQUIT to its process\n"
	       "                          (default true; not when our terminal is the container's,\n"
	       "                          made with -it: there ctrl-c is a key)\n");
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
	struct attach a = { .cli = cli, .sig_fd = -1, .keys = { 16, 17 }, .nkeys = 2, .to_ctr = -1 };
	struct log_read_opts o = { .tail = 0, .follow = true, .sink = sink, .arg = &a };
	struct termios saved, raw;
	struct container *ct;
	struct container_state st;
	struct error e = { 0 };
	bool proxy = true, restore = false, no_stdin = false, tty;
	pthread_t reader;
	bool reading = false;
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
		case 'n': no_stdin = true; break;
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
	tty = ct->cfg.tty && isatty(STDIN_FILENO);
	if (ct->cfg.interactive && !no_stdin) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0) {
			container_free(ct);
			err_sys(&e, -errno, "attach %s: a pipe for its stdin", a.ref);
			return cli_fail(&e, 1);
		}
		if (engine_attach_stdin(&cli->paths, a.ref, p[0], ct->cfg.stdin_once, &e)) {
			close(p[0]);
			close(p[1]);
			container_free(ct);
			return cli_fail(&e, 1);
		}
		close(p[0]);
		a.to_ctr = p[1];
	} else {
		tty = false;	/* only watched for the keys */
	}
	if (proxy && !tty) {
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
		if (tty)
			cfmakeraw(&raw);	/* the guest's terminal does the echo and ctrl-c */
		else {	/* keys one by one (ctrl-q too: no XON/XOFF); ctrl-c stays a signal */
			raw.c_lflag &= ~(ICANON | ECHO);
			raw.c_iflag &= ~(IXON | ICRNL);
		}
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		a.keys_on = true;
	}
	if (a.keys_on || a.to_ctr >= 0)
		reading = pthread_create(&reader, NULL, read_stdin, &a) == 0;
	if (engine_logs(ct, &o, &e))
		cli_fail(&e, 1);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (a.sig_fd >= 0)
		close(a.sig_fd);
	if (reading)
		pthread_detach(reader);	/* it may sit in read(); exit takes it */
	if (__atomic_load_n(&a.detached, __ATOMIC_RELAXED)) {
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
