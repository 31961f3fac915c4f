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

/* One filter's values into out: ["a","b"], or the older {"a":true}; each a string. */
static int add_values(struct filters *out, const char *key, json_object *v, struct error *e)
{
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *s = json_object_array_get_idx(v, i);

			if (!json_object_is_type(s, json_type_string))
				return err_set(e, -EINVAL, "filters.%s: want strings", key);
			if (filters_add_value(out, key, json_object_get_string(s), e))
				return e->code;
		}
		return 0;
	}
	if (!json_object_is_type(v, json_type_object))
		return err_set(e, -EINVAL, "filters.%s: want an array of strings", key);
	json_object_object_foreach(v, k, on) {
		if (json_object_get_boolean(on) && filters_add_value(out, key, k, e))
			return e->code;
	}
	return 0;
}

int api_filters(const struct api_request *r, struct filters *out, struct error *e)
{
	const char *s = r->query(r, "filters");
	json_object *f;
	int ret = 0;

	if (!s || !*s)
		return 0;
	if (!(f = json_parse_object(s, strlen(s), e)))
		return err_wrap(e, -EINVAL, "filters");
	json_object_object_foreach(f, key, val) {
		if (!filters_has_key(out, key)) {
			ret = err_set(e, -EINVAL, "invalid filter '%s'", key);
			break;
		}
		if ((ret = add_values(out, key, val, e)))
			break;
	}
	json_object_put(f);
	return ret;
}

const char *api_repo_tag(const struct api_request *r, char *buf, size_t len)
{
	const char *repo = r->query(r, "repo"), *tag = r->query(r, "tag");

	if (!repo || !*repo)
		return NULL;
	snprintf(buf, len, "%s%s%s", repo, tag && *tag ? ":" : "", tag && *tag ? tag : "");
	return buf;
}

char *const *api_changes(const struct api_request *r, const char **out, size_t max)
{
	return r->query_all(r, "changes", out, max) ? (char *const *)out : NULL;
}
