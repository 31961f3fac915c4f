#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cmdline.h"

void cmdline_init(struct cmdline *c)
{
	c->buf[0] = '\0';
	c->len = 0;
	c->overflow = false;
}

void cmdline_add(struct cmdline *c, const char *fmt, ...)
{
	char part[CMDLINE_MAX];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	if (n >= sizeof(part)) {
		c->overflow = true;
		return;
	}
	if (!n)
		return;
	if (c->len + (c->len ? 1 : 0) + n >= CMDLINE_MAX) {
		c->overflow = true;
		return;
	}
	if (c->len)
		c->buf[c->len++] = ' ';
	memcpy(c->buf + c->len, part, n + 1);
	c->len += n;
}

bool cmdline_has(const struct cmdline *c, const char *key)
{
	size_t klen = strlen(key);
	const char *p = c->buf;

	while (*p) {
		size_t wlen;

		while (*p == ' ')
			p++;
		wlen = strcspn(p, " ");
		if (wlen >= klen && !strncmp(p, key, klen) && (wlen == klen || p[klen] == '='))
			return true;
		p += wlen;
	}
	return false;
}
