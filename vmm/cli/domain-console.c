/*
 * vmm domain console NAME: this terminal on a background domain's `pty`
 * console, as virsh console: raw, until ^] (or our end of input, or the
 * domain's end).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/domain.h"
#include "vmm/domain/lifecycle.h"

#define ESCAPE	0x1d	/* ^] */

/* Copy what fd has to out; up to ^] when escape. -1: the end (EOF, error, or ^]). */
static int pump(int fd, int out, bool escape)
{
	char buf[4096], *stop;
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	stop = escape ? memchr(buf, ESCAPE, n) : NULL;
	if (write_full(out, buf, stop ? (size_t)(stop - buf) : (size_t)n) < 0 || stop)
		return -1;
	return 0;
}

static void relay(int pty)
{
	struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = pty, .events = POLLIN } };

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (fds[1].revents && pump(pty, STDOUT_FILENO, false))
			return;	/* the domain ended */
		if (fds[0].revents && pump(STDIN_FILENO, pty, true))
			return;
	}
}

int cli_domain_console(const struct cli *cli, const struct domain_def *d)
{
	struct termios saved, raw;
	struct error e = { 0 };
	char path[64];
	bool restore = false;
	int lock_fd, pty;

	if (domain_console_open(&cli->paths, d, path, sizeof(path), &lock_fd, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	pty = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pty < 0) {
		err_sys(&e, -errno, "domain %s: its console %s", d->name, path);
		close(lock_fd);
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	printf("Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", d->name);
	fflush(stdout);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);	/* the guest's terminal does the echo and ctrl-c */
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	relay(pty);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	putchar('\n');
	close(pty);
	close(lock_fd);
	return 0;
}
