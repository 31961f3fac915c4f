/* struct error: a negative errno and one line of context (see error.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/error.h"

static int norm(int code)
{
	if (code > 0)
		return -code;
	return code ? code : -EINVAL;
}

static int vset(struct error *e, int code, bool sys, const char *fmt, va_list ap)
{
	size_t n;

	code = norm(code);
	if (!e)
		return code;
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	n = strlen(e->msg);
	if (sys && n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(-code));
	return code;
}

int err_set(struct error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vset(e, code, false, fmt, ap);
	va_end(ap);
	return code;
}

int err_sys(struct error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vset(e, code, true, fmt, ap);
	va_end(ap);
	return code;
}

int err_wrap(struct error *e, int code, const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	size_t n;
	va_list ap;

	code = norm(code);
	if (!e)
		return code;
	if (e->code)
		memcpy(old, e->msg, sizeof(old));
	else
		snprintf(old, sizeof(old), "%s", strerror(-code));
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* "prefix: old", cut at the buffer's end */
	n = strlen(e->msg);
	for (const char *p = ": "; *p && n < sizeof(e->msg) - 1; p++)
		e->msg[n++] = *p;
	for (const char *p = old; *p && n < sizeof(e->msg) - 1; p++)
		e->msg[n++] = *p;
	e->msg[n] = '\0';
	return code;
}

int err_copy(struct error *e, const struct error *from, int code)
{
	code = norm(code);
	if (!e)
		return code;
	if (from && from->code) {
		*e = *from;
		e->code = code;
		return code;
	}
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", strerror(-code));
	return code;
}

int err_cat(struct error *e, int code, const char *first, ...)
{
	size_t len = 0;
	va_list ap;

	code = norm(code);
	if (!e)
		return code;
	e->code = code;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		if (n > sizeof(e->msg) - 1 - len)
			n = sizeof(e->msg) - 1 - len;
		memcpy(e->msg + len, s, n);
		len += n;
	}
	va_end(ap);
	e->msg[len] = '\0';
	return code;
}

void err_clear(struct error *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}
