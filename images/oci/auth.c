/* WWW-Authenticate challenges, base64 and registry names: pure functions over hostile text. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "images/oci/auth.h"

/* RFC 7230 tchar */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token68(unsigned char c)
{
	return isalnum(c) || (c && strchr("-._~+/", c));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

struct cursor {
	const char *s;
	size_t len, p;
};

static char peek(const struct cursor *c)
{
	return c->p < c->len ? c->s[c->p] : '\0';
}

static bool at_end(const struct cursor *c)
{
	return c->p >= c->len;
}

static void skip_ws(struct cursor *c)
{
	while (!at_end(c) && is_ws(c->s[c->p]))
		c->p++;
}

/* A token: its start and length (0 when none). */
static size_t token(struct cursor *c, const char **start)
{
	size_t p0 = c->p;

	while (!at_end(c) && is_tchar((unsigned char)c->s[c->p]))
		c->p++;
	*start = c->s + p0;
	return c->p - p0;
}

/*
 * A param value, token or quoted-string, copied into buf (NUL-terminated).
 * *too_long is set when it does not fit. -EINVAL on malformed input.
 */
static int value(struct cursor *c, char *buf, size_t buflen, bool *too_long)
{
	size_t n = 0;

	if (peek(c) != '"') {
		const char *t;
		size_t tl = token(c, &t);

		if (!tl)
			return -EINVAL;
		if (tl >= buflen)
			*too_long = true;
		else
			n = tl, memcpy(buf, t, tl);
		if (buflen)
			buf[*too_long ? 0 : n] = '\0';
		return 0;
	}
	c->p++;
	for (;;) {
		unsigned char ch;

		if (at_end(c))
			return -EINVAL;	/* unterminated */
		ch = (unsigned char)c->s[c->p++];
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (at_end(c))
				return -EINVAL;
			ch = (unsigned char)c->s[c->p++];
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return -EINVAL;
		if (n + 1 < buflen)
			buf[n++] = (char)ch;
		else
			*too_long = true;
	}
	if (buflen)
		buf[*too_long ? 0 : n] = '\0';
	return 0;
}

static enum auth_scheme scheme_of(const char *t, size_t n)
{
	if (n == 5 && !strncasecmp(t, "Basic", 5))
		return AUTH_BASIC;
	if (n == 6 && !strncasecmp(t, "Bearer", 6))
		return AUTH_BEARER;
	return AUTH_OTHER;
}

/* After a comma: does a new challenge start here (a token not followed by '=')? */
static bool new_challenge_ahead(const struct cursor *c)
{
	struct cursor look = *c;
	const char *t;

	if (!token(&look, &t))
		return false;
	skip_ws(&look);
	return peek(&look) != '=';
}

/* A token68 up to the end or a comma: consumed when there is one. */
static bool token68_ahead(struct cursor *c)
{
	struct cursor look = *c;

	while (!at_end(&look) && is_token68((unsigned char)peek(&look)))
		look.p++;
	if (look.p == c->p)
		return false;
	while (peek(&look) == '=')
		look.p++;
	skip_ws(&look);
	if (!at_end(&look) && peek(&look) != ',')
		return false;
	*c = look;
	return true;
}

/* The params of one challenge, up to the next challenge or the end. */
static int params(struct cursor *c, struct auth_challenge *ch)
{
	char scratch[AUTH_PARAM_MAX];
	bool first = true, bad = false;

	for (;;) {
		const char *name;
		char *dst;
		size_t nl, dlen;
		bool too_long = false;

		skip_ws(c);
		while (peek(c) == ',') {
			c->p++;
			skip_ws(c);
			first = false;
			if (new_challenge_ahead(c))
				goto done;
		}
		if (at_end(c))
			break;
		if (first && token68_ahead(c)) {
			first = false;	/* "Basic abc==": nothing we use */
			continue;
		}
		nl = token(c, &name);
		if (!nl)
			return -EINVAL;
		skip_ws(c);
		if (peek(c) != '=')
			return -EINVAL;
		c->p++;
		skip_ws(c);
		first = false;
		dst = scratch;
		dlen = sizeof(scratch);
		if (nl == 5 && !strncasecmp(name, "realm", 5))
			dst = ch->realm, dlen = sizeof(ch->realm);
		else if (nl == 7 && !strncasecmp(name, "service", 7))
			dst = ch->service, dlen = sizeof(ch->service);
		else if (nl == 5 && !strncasecmp(name, "scope", 5))
			dst = ch->scope, dlen = sizeof(ch->scope);
		else if (nl == 5 && !strncasecmp(name, "error", 5))
			dst = ch->error, dlen = sizeof(ch->error);
		if (value(c, dst, dlen, &too_long))
			return -EINVAL;
		if (too_long && dst != scratch)
			bad = true;
		skip_ws(c);
		if (!at_end(c) && peek(c) != ',')
			return -EINVAL;
	}
done:
	if (bad)
		ch->scheme = AUTH_OTHER;	/* we could not hold it: unusable */
	return 0;
}

int www_auth_parse(const char *s, size_t len, struct auth_challenge *out, size_t max)
{
	struct cursor c = { .s = s, .len = len };
	size_t n = 0;

	for (;;) {
		struct auth_challenge tmp, *ch;
		const char *t;
		size_t tl;

		while (!at_end(&c) && (is_ws(peek(&c)) || peek(&c) == ','))
			c.p++;
		if (at_end(&c))
			break;
		tl = token(&c, &t);
		if (!tl)
			return -EINVAL;
		if (!at_end(&c) && !is_ws(peek(&c)) && peek(&c) != ',')
			return -EINVAL;
		ch = n < max ? &out[n] : &tmp;
		memset(ch, 0, sizeof(*ch));
		ch->scheme = scheme_of(t, tl);
		if (params(&c, ch))
			return -EINVAL;
		if (n < max)
			n++;
	}
	return (int)n;
}

const struct auth_challenge *www_auth_pick(const struct auth_challenge *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].scheme == AUTH_BEARER && v[i].realm[0])
			return &v[i];
	for (size_t i = 0; i < n; i++)
		if (v[i].scheme == AUTH_BASIC)
			return &v[i];
	return NULL;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define SCOPES_MAX	16

struct scope {
	char res[AUTH_PARAM_MAX];	/* "repository:a/b" (or the whole scope when it has no actions) */
	char actions[128];		/* "pull,push", or "" */
};

/* Add the actions of list (comma-separated) that s does not have yet. */
static int add_actions(struct scope *s, const char *list, size_t len)
{
	while (len) {
		size_t n = 0, have = strlen(s->actions);
		const char *a = s->actions;
		bool known = false;

		while (n < len && list[n] != ',')
			n++;
		for (; *a && !known; a += strcspn(a, ","), a += *a == ',')
			known = strcspn(a, ",") == n && !strncmp(a, list, n);
		if (n && !known) {
			if (have + n + 2 > sizeof(s->actions))
				return -ENOSPC;
			if (have)
				s->actions[have++] = ',';
			memcpy(s->actions + have, list, n);
			s->actions[have + n] = '\0';
		}
		list += n;
		len -= n;
		if (len) {	/* the comma */
			list++;
			len--;
		}
	}
	return 0;
}

/* One scope "type:name:actions" into v (merged with its resource's entry). */
static int merge_one(struct scope *v, size_t *n, const char *tok, size_t len)
{
	const char *colon = memchr(tok, ':', len), *last = NULL;
	size_t rl = len;
	struct scope *s = NULL;

	for (const char *c = tok; c < tok + len; c++)
		if (*c == ':')
			last = c;
	if (colon && last != colon)	/* a name, then actions after the last colon */
		rl = (size_t)(last - tok);
	if (rl >= sizeof(v->res))
		return -ENOSPC;
	for (size_t i = 0; i < *n && !s; i++)
		if (strlen(v[i].res) == rl && !strncmp(v[i].res, tok, rl))
			s = &v[i];
	if (!s) {
		if (*n == SCOPES_MAX)
			return -ENOSPC;
		s = &v[(*n)++];
		memcpy(s->res, tok, rl);
		s->res[rl] = '\0';
		s->actions[0] = '\0';
	}
	return rl < len ? add_actions(s, tok + rl + 1, len - rl - 1) : 0;
}

int auth_scopes_merge(const char *const *lists, size_t n_lists, char *out, size_t len)
{
	struct scope v[SCOPES_MAX];
	size_t n = 0, at = 0;
	int ret;

	for (size_t i = 0; i < n_lists; i++) {
		for (const char *p = lists[i]; p && *p;) {
			size_t tl = strcspn(p, " ");

			if (tl && (ret = merge_one(v, &n, p, tl)))
				return ret;
			p += tl;
			p += strspn(p, " ");
		}
	}
	if (!len)
		return -ENOSPC;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + at, len - at, "%s%s%s%s", i ? " " : "", v[i].res, v[i].actions[0] ? ":" : "",
				 v[i].actions);

		if (w < 0 || (size_t)w >= len - at)
			return -ENOSPC;
		at += (size_t)w;
	}
	return 0;
}

int base64_encode(const void *data, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = data;
	size_t need = (len + 2) / 3 * 4, o = 0;

	if (len > SIZE_MAX / 2 || need + 1 > outlen)
		return -ENOSPC;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}

int base64_decode(const char *s, size_t len, void *out, size_t outlen)
{
	unsigned char *o = out;
	uint32_t acc = 0;
	size_t n = 0, bits = 0;

	while (len && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		const char *at = s[i] ? strchr(b64, s[i]) : NULL;

		if (!at)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)(at - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outlen)
				return -ENOSPC;
			o[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n > INT32_MAX ? -ENOSPC : (int)n;
}

int registry_host_normalize(const char *name, char *host, size_t len)
{
	static const char *const hub[] = {
		"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "docker.io",
	};
	size_t n = 0;

	if (!strncasecmp(name, "https://", 8))
		name += 8;
	else if (!strncasecmp(name, "http://", 7))
		name += 7;
	for (; name[n] && name[n] != '/'; n++) {
		unsigned char ch = (unsigned char)name[n];

		if (!isalnum(ch) && !strchr(".-:[]_", ch))
			return -EINVAL;
		if (n + 1 >= len || n + 1 >= AUTH_HOST_MAX)
			return -EINVAL;
		host[n] = (char)tolower(ch);
	}
	if (n == 0 || host[0] == ':' || host[0] == '.')
		return -EINVAL;
	host[n] = '\0';
	for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++) {
		if (!strcmp(host, hub[i])) {
			if (len <= strlen("docker.io"))
				return -EINVAL;
			strcpy(host, "docker.io");
		}
	}
	return 0;
}

const char *registry_api_host(const char *domain)
{
	return strcmp(domain, "docker.io") ? domain : "registry-1.docker.io";
}

bool registry_host_is_loopback(const char *host)
{
	char name[AUTH_HOST_MAX];
	struct in_addr a4;
	const char *end;
	size_t n;

	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end)
			return false;
		host++;
	} else {
		end = strchr(host, ':');
		if (!end)
			end = host + strlen(host);
	}
	n = (size_t)(end - host);
	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (!strcasecmp(name, "localhost") || !strcmp(name, "::1"))
		return true;
	return inet_pton(AF_INET, name, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}
