/* Guest console sink: bytes from the UART to a file descriptor, a tail kept for error reports. */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_TAIL_SIZE 8192
#define CONSOLE_LINE_MAX 256

struct console {
	int out_fd;		/* -1: discard */
	uint64_t max;		/* bytes out_fd takes at most; 0: no limit */
	uint64_t written;	/* to out_fd so far */
	pthread_mutex_t lock;
	char tail[CONSOLE_TAIL_SIZE];	/* ring of the last bytes written */
	size_t tail_len;		/* total bytes ever written */
	char line[CONSOLE_LINE_MAX];	/* current line, for pattern detection */
	size_t line_len;
	bool panic_seen;	/* a "Kernel panic - not syncing" line went by */
	bool first_byte_seen;
};

/*
 * Output to out_fd, at most max bytes (0: no limit; a guest that floods its
 * console then gets one line saying so, and the rest is dropped).
 */
void console_init(struct console *con, int out_fd, uint64_t max);
void console_destroy(struct console *con);
void console_write(struct console *con, const void *buf, size_t len);
/* Copy the last max_lines lines of output (NUL-terminated) into buf. */
void console_tail(struct console *con, char *buf, size_t len, unsigned max_lines);
bool console_panicked(struct console *con);

#endif
