#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"

/* The one mutable global the style allows: set once by the CLI. */
static enum log_level current_level = LOG_WARN;

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
{
	static const char *const names[] = {
		[LOG_ERROR] = "error", [LOG_WARN] = "warning",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	char line[1024];
	int n;
	va_list ap;

	if (level > current_level || level < LOG_ERROR)
		return;
	n = snprintf(line, sizeof(line), "vmm: %s%s%s: ", tag ? tag : "",
		     tag ? ": " : "", names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (n < (int)sizeof(line) - 1)
		line[n++] = '\n';
	else
		line[n - 1] = '\n';
	/* One write per line so lines from several threads do not interleave. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void err_print(const struct error *e)
{
	log_msg(LOG_ERROR, NULL, "%s", e->msg[0] ? e->msg : strerror(e->code ? -e->code : EINVAL));
}
