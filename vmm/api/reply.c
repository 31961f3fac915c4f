/* Engine API replies, request bodies, query parameters and filters. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/engine/config-scan.h"
#include "vmm/engine/filters.h"

void api_reply_json(struct api_response *w, int status, json_object *o)
{
	json_object_put(w->json);
	w->status = status;
	w->json = o;
}

void api_reply_empty(struct api_response *w, int status)
{
	api_reply_json(w, status, NULL);
}

void api_reply_error(struct api_response *w, int status, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "message", json_object_new_string(msg));
	api_reply_json(w, status, o);
}

void api_reply_err(struct api_response *w, const struct error *e)
{
	int status = 500;

	switch (e->code) {
	case -ENOENT:
		status = 404;
		break;
	case -EEXIST:
	case -EBUSY:
	case -ENOTEMPTY:
	case -ESRCH:	/* not running */
		status = 409;
		break;
	case -EINVAL:
	case -E2BIG:
	case -ERANGE:
	case -ENAMETOOLONG:
		status = 400;
		break;
	}
	api_reply_error(w, status, "%s", e->msg[0] ? e->msg : strerror(-e->code));
}

int api_tmpfile(const char *dir, struct error *e)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && mkdir(dir, 0700) == 0)
		fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	return fd >= 0 ? fd : err_sys(e, -errno, "%s: a file to spool the request into", dir);
}

json_object *api_body_object(const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };
	json_object *o;

	if (!r->body_len) {
		api_reply_error(w, 400, "%s: the request needs a JSON body", r->path);
		return NULL;
	}
	if (!(o = json_parse_object(r->body, r->body_len, &e)))
		api_reply_error(w, 400, "%s: the request body is not a JSON object: %s", r->path, e.msg);
	return o;
}

bool api_client_gone(int fd, bool eof_too)
{
	struct pollfd p = { .fd = fd, .events = eof_too ? POLLRDHUP : 0 };

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL | POLLRDHUP));
}

bool api_query_bool(const struct api_request *r, const char *key, bool dflt)
{
	const char *v = r->query(r, key);

	if (!v)
		return dflt;
	return !strcmp(v, "1") || !strcasecmp(v, "true");
}

/* One filter's values: ["a","b"] or the older {"a":true}; each a string. */
static int filter_values_ok(const char *key, json_object *v, struct error *e)
{
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
				return err_set(e, -EINVAL, "filters.%s: want strings", key);
		return 0;
	}
	if (json_object_is_type(v, json_type_object))
		return 0;
	return err_set(e, -EINVAL, "filters.%s: want an array of strings", key);
}

int api_filters(const struct api_request *r, const char *const *allowed, json_object **out,
		struct error *e)
{
	const char *s = r->query(r, "filters");
	json_object *f;

	*out = NULL;
	if (!s || !*s)
		return 0;
	if (!(f = json_parse_object(s, strlen(s), e)))
		return err_wrap(e, -EINVAL, "filters");
	json_object_object_foreach(f, key, val) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], key); i++)
			;
		if (!allowed[i] || filter_values_ok(key, val, e)) {
			if (!allowed[i])
				err_set(e, -EINVAL, "invalid filter '%s'", key);
			json_object_put(f);
			return e->code;
		}
	}
	*out = f;
	return 0;
}

size_t api_filter_values(json_object *filters, const char *key, const char **vals, size_t max)
{
	json_object *v;
	size_t n = 0;

	if (!filters || !json_object_object_get_ex(filters, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v) && n < max; i++)
			vals[n++] = json_object_get_string(json_object_array_get_idx(v, i));
		return n;
	}
	json_object_object_foreach(v, k, val) {
		if (n < max && json_object_get_boolean(val))
			vals[n++] = k;
	}
	return n;
}

bool api_filter_has(json_object *filters, const char *key)
{
	const char *v[1];

	return api_filter_values(filters, key, v, 1) > 0;
}

bool api_filter_match(json_object *filters, const char *key, const char *s, enum api_match how)
{
	const char *v[64];
	size_t n = api_filter_values(filters, key, v, 64);

	for (size_t i = 0; i < n; i++) {
		if ((how == API_MATCH_EXACT && !strcmp(s, v[i])) ||
		    (how == API_MATCH_PREFIX && !strncmp(s, v[i], strlen(v[i]))) ||
		    (how == API_MATCH_SUBSTRING && strstr(s, v[i])))
			return true;
	}
	return false;
}

bool api_filter_labels(json_object *filters, char *const *labels)
{
	const char *v[64];
	size_t n = api_filter_values(filters, "label", v, 64);

	for (size_t i = 0; i < n; i++)
		if (!labels_match(labels, v[i]))
			return false;
	return true;
}

int api_filters_to(json_object *filters, struct filters *out, struct error *e)
{
	for (size_t i = 0; i < FILTER_KEYS_MAX && out->keys[i]; i++) {
		const char *vals[64];
		size_t n = api_filter_values(filters, out->keys[i], vals, 64);

		for (size_t k = 0; k < n; k++)
			if (filters_add_value(out, out->keys[i], vals[k], e))
				return e->code;
	}
	return 0;
}
