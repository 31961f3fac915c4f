#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/console.h"
#include "vmm/base/util.h"

#define PANIC_MARK "Kernel panic - not syncing"

void console_init(struct console *con, int out_fd, uint64_t max)
{
	memset(con, 0, sizeof(*con));
	con->out_fd = out_fd;
	con->max = max;
	pthread_mutex_init(&con->lock, NULL);
}

void console_destroy(struct console *con)
{
	pthread_mutex_destroy(&con->lock);
}

static void scan_byte(struct console *con, char c)
{
	if (c == '\n' || con->line_len == CONSOLE_LINE_MAX - 1) {
		con->line[con->line_len] = '\0';
		if (strstr(con->line, PANIC_MARK))
			con->panic_seen = true;
		con->line_len = 0;
		return;
	}
	con->line[con->line_len++] = c;
}

void console_write(struct console *con, const void *buf, size_t len)
{
	const char *p = buf;
	int ret;

	pthread_mutex_lock(&con->lock);
	for (size_t i = 0; i < len; i++) {
		con->tail[con->tail_len++ % CONSOLE_TAIL_SIZE] = p[i];
		scan_byte(con, p[i]);
	}
	pthread_mutex_unlock(&con->lock);
	if (con->out_fd < 0)
		return;
	if (con->max && con->written + len > con->max) {
		static const char note[] = "\n[vmm: the guest's console passed its cap: the rest is not kept]\n";

		write_full(con->out_fd, buf, con->max - con->written);
		write_full(con->out_fd, note, sizeof(note) - 1);
		con->out_fd = -1;
		return;
	}
	/*
	 * A console that cannot be written (closed pipe) must not stop the guest.
	 * A full non-blocking one (a pty nobody reads) drops what does not fit.
	 */
	ret = write_full(con->out_fd, buf, len);
	if (ret < 0 && ret != -EAGAIN)
		con->out_fd = -1;
	con->written += len;
}

void console_tail(struct console *con, char *buf, size_t len, unsigned max_lines)
{
	size_t have, start, n = 0;
	unsigned lines = 0;

	pthread_mutex_lock(&con->lock);
	have = MIN(con->tail_len, (size_t)CONSOLE_TAIL_SIZE);
	/* Walk back from the end counting newlines (a trailing one does not count). */
	start = con->tail_len - have;
	for (size_t i = con->tail_len; i > con->tail_len - have; i--) {
		char c = con->tail[(i - 1) % CONSOLE_TAIL_SIZE];

		if (c == '\n' && i != con->tail_len && ++lines == max_lines) {
			start = i;
			break;
		}
	}
	for (size_t i = start; i < con->tail_len && n + 1 < len; i++) {
		char c = con->tail[i % CONSOLE_TAIL_SIZE];

		if (c != '\r')
			buf[n++] = c;
	}
	pthread_mutex_unlock(&con->lock);
	if (len)
		buf[n] = '\0';
}

bool console_panicked(struct console *con)
{
	bool seen;

	pthread_mutex_lock(&con->lock);
	seen = con->panic_seen;
	if (!seen && con->line_len) {	/* a panic line without its newline yet */
		con->line[con->line_len] = '\0';
		seen = strstr(con->line, PANIC_MARK) != NULL;
	}
	pthread_mutex_unlock(&con->lock);
	return seen;
}
