/* The agent protocol's messages (protocol.h): typed encoders and validating decoders. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest-agent/protocol.h"
#include "guest-agent/protocol-internal.h"

int proto_hello_encode(struct proto_buf *b, const struct proto_hello *h)
{
	proto_begin(b, PROTO_HELLO, 0);
	proto_put_u64(b, TAG_VERSION, h->version);
	proto_put_u64(b, TAG_CAPS, h->caps);
	proto_put_u64(b, TAG_UPTIME_NS, h->uptime_ns);
	return proto_end(b);
}

int proto_hello_decode(const void *p, size_t n, struct proto_hello *h)
{
	struct proto_reader r;
	const uint8_t *val;
	uint32_t len;
	uint16_t tag;
	uint64_t v = 0;
	int ret;

	memset(h, 0, sizeof(*h));
	proto_reader_init(&r, p, n);
	while ((ret = proto_next(&r, &tag, &val, &len)) > 0) {
		switch (tag) {
		case TAG_VERSION:
			if (proto_get_range(val, len, UINT32_MAX, &v))
				return -EINVAL;
			h->version = v;
			break;
		case TAG_CAPS:
			if (proto_get_u64(val, len, &h->caps))
				return -EINVAL;
			break;
		case TAG_UPTIME_NS:
			if (proto_get_u64(val, len, &h->uptime_ns))
				return -EINVAL;
			break;
		}
	}
	if (ret < 0)
		return ret;
	return h->version ? 0 : -EINVAL;
}

static void put_list(struct proto_buf *b, uint16_t tag, char *const *list, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		proto_put_str(b, tag, list[i]);
}

static void put_nonzero(struct proto_buf *b, uint16_t tag, uint64_t v)
{
	if (v)
		proto_put_u64(b, tag, v);
}

int proto_spec_encode(struct proto_buf *b, uint16_t type, uint16_t stream, const struct proto_spec *s)
{
	proto_begin(b, type, stream);
	put_list(b, TAG_ARGV, s->argv, s->argc);
	put_list(b, TAG_ENV, s->env, s->nenv);
	proto_put_str(b, TAG_CWD, s->cwd);
	proto_put_str(b, TAG_USER, s->user);
	put_list(b, TAG_GROUPS, s->groups, s->ngroups);
	put_nonzero(b, TAG_TTY, s->tty);
	put_nonzero(b, TAG_ROWS, s->rows);
	put_nonzero(b, TAG_COLS, s->cols);
	put_nonzero(b, TAG_STDIN, s->stdin);
	put_nonzero(b, TAG_MEMORY_MAX, s->memory_max);
	put_nonzero(b, TAG_PIDS_MAX, s->pids_max);
	put_nonzero(b, TAG_CPU_QUOTA, s->cpu_quota_us);
	put_nonzero(b, TAG_CPU_PERIOD, s->cpu_period_us);
	proto_put_str(b, TAG_HOSTNAME, s->hostname);
	proto_put_str(b, TAG_NAME, s->name);
	put_nonzero(b, TAG_READ_ONLY, s->read_only);
	put_nonzero(b, TAG_EPHEMERAL, s->ephemeral);
	put_nonzero(b, TAG_INIT, s->init);
	proto_put_str(b, TAG_ROOT, s->root);
	proto_put_str(b, TAG_ROOT_FSTYPE, s->root_fstype);
	for (unsigned i = 0; i < s->nmounts; i++) {
		const struct proto_mount *m = &s->mounts[i];
		size_t h = proto_nest_begin(b, TAG_MOUNT);

		proto_put_str(b, TAG_MNT_SOURCE, m->source);
		proto_put_str(b, TAG_MNT_TARGET, m->target);
		proto_put_str(b, TAG_MNT_FSTYPE, m->fstype);
		proto_put_str(b, TAG_MNT_OPTIONS, m->options);
		put_nonzero(b, TAG_MNT_READ_ONLY, m->read_only);
		put_nonzero(b, TAG_MNT_COPY_UP, m->copy_up);
		proto_nest_end(b, h);
	}
	put_list(b, TAG_HOSTS, s->hosts, s->nhosts);
	put_list(b, TAG_DNS, s->dns, s->ndns);
	put_list(b, TAG_DNS_SEARCH, s->dns_search, s->ndns_search);
	proto_put_str(b, TAG_NET_ADDR, s->net_addr);
	proto_put_str(b, TAG_NET_GATEWAY, s->net_gateway);
	proto_put_str(b, TAG_NET_MAC, s->net_mac);
	proto_put_str(b, TAG_NET_EXTRA, s->net_extra);
	put_nonzero(b, TAG_CAPS_SET, s->caps_set);
	for (int i = 0; s->caps_set && i < PROTO_CAP_SETS; i++)
		proto_put_u64(b, TAG_CAP_SET0 + i, s->caps[i]);
	put_list(b, TAG_RLIMITS, s->rlimits, s->nrlimits);
	put_nonzero(b, TAG_NO_NEW_PRIVS, s->no_new_privs);
	return proto_end(b);
}

/*
 * Spec decoding runs twice over the fields: first to validate and size
 * everything (fill == false), then to copy into one arena.
 */
struct spec_ctx {
	bool fill;
	size_t strings;		/* bytes of string storage needed / used */
	char *strpool;
	unsigned nargv, nenv, ngroups, nmounts, nhosts, ndns, nsearch, nrlimits;
};

static int spec_str(struct spec_ctx *c, const uint8_t *val, uint32_t len, const char **out)
{
	int ret = proto_check_str(val, len);

	if (ret)
		return ret;
	if (c->fill) {
		memcpy(c->strpool + c->strings, val, len);
		c->strpool[c->strings + len] = 0;
		*out = c->strpool + c->strings;
	}
	c->strings += (size_t)len + 1;
	return 0;
}

static int spec_list(struct spec_ctx *c, const uint8_t *val, uint32_t len, char **list, unsigned *n)
{
	const char *s = NULL;
	int ret;

	if (*n >= PROTO_MAX_LIST)
		return -E2BIG;
	ret = spec_str(c, val, len, &s);
	if (ret)
		return ret;
	if (c->fill)
		list[*n] = (char *)s;
	(*n)++;
	return 0;
}

static int spec_bool(const uint8_t *val, uint32_t len, bool *b)
{
	uint64_t v = 0;

	if (proto_get_range(val, len, 1, &v))
		return -EINVAL;
	*b = v;
	return 0;
}

static int spec_mount(struct spec_ctx *c, const uint8_t *val, uint32_t len, struct proto_mount *m)
{
	struct proto_reader r;
	struct proto_mount tmp = { 0 };
	const uint8_t *v;
	uint32_t l;
	uint16_t tag;
	int ret;

	if (c->nmounts >= PROTO_MAX_LIST)
		return -E2BIG;
	proto_reader_init(&r, val, len);
	while ((ret = proto_next(&r, &tag, &v, &l)) > 0) {
		switch (tag) {
		case TAG_MNT_SOURCE: ret = spec_str(c, v, l, &tmp.source); break;
		case TAG_MNT_TARGET: ret = spec_str(c, v, l, &tmp.target); break;
		case TAG_MNT_FSTYPE: ret = spec_str(c, v, l, &tmp.fstype); break;
		case TAG_MNT_OPTIONS: ret = spec_str(c, v, l, &tmp.options); break;
		case TAG_MNT_READ_ONLY: ret = spec_bool(v, l, &tmp.read_only); break;
		case TAG_MNT_COPY_UP: ret = spec_bool(v, l, &tmp.copy_up); break;
		default: ret = 0; break;
		}
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	if (c->fill) {
		if (!tmp.target)
			return -EINVAL;
		m[c->nmounts] = tmp;
	}
	c->nmounts++;
	return 0;
}

static int spec_pass(struct spec_ctx *c, const void *p, size_t n, struct proto_spec *s)
{
	struct proto_reader r;
	const uint8_t *val;
	uint32_t len;
	uint16_t tag;
	uint64_t v = 0;
	int ret;

	proto_reader_init(&r, p, n);
	while ((ret = proto_next(&r, &tag, &val, &len)) > 0) {
		switch (tag) {
		case TAG_ARGV: ret = spec_list(c, val, len, s->argv, &c->nargv); break;
		case TAG_ENV: ret = spec_list(c, val, len, s->env, &c->nenv); break;
		case TAG_GROUPS: ret = spec_list(c, val, len, s->groups, &c->ngroups); break;
		case TAG_HOSTS: ret = spec_list(c, val, len, s->hosts, &c->nhosts); break;
		case TAG_DNS: ret = spec_list(c, val, len, s->dns, &c->ndns); break;
		case TAG_DNS_SEARCH: ret = spec_list(c, val, len, s->dns_search, &c->nsearch); break;
		case TAG_RLIMITS:
			ret = c->nrlimits >= PROTO_RLIMITS_MAX ? -E2BIG : spec_list(c, val, len, s->rlimits, &c->nrlimits);
			break;
		case TAG_CAPS_SET: ret = spec_bool(val, len, &s->caps_set); break;
		case TAG_NO_NEW_PRIVS: ret = spec_bool(val, len, &s->no_new_privs); break;
		case TAG_CAP_SET0 ... TAG_CAP_SET4: ret = proto_get_u64(val, len, &s->caps[tag - TAG_CAP_SET0]); break;
		case TAG_CWD: ret = spec_str(c, val, len, &s->cwd); break;
		case TAG_USER: ret = spec_str(c, val, len, &s->user); break;
		case TAG_HOSTNAME:
			ret = len > 64 ? -EINVAL : spec_str(c, val, len, &s->hostname);
			break;
		case TAG_NAME: ret = spec_str(c, val, len, &s->name); break;
		case TAG_ROOT: ret = spec_str(c, val, len, &s->root); break;
		case TAG_ROOT_FSTYPE: ret = spec_str(c, val, len, &s->root_fstype); break;
		case TAG_NET_ADDR: ret = spec_str(c, val, len, &s->net_addr); break;
		case TAG_NET_GATEWAY: ret = spec_str(c, val, len, &s->net_gateway); break;
		case TAG_NET_MAC: ret = spec_str(c, val, len, &s->net_mac); break;
		case TAG_NET_EXTRA: ret = spec_str(c, val, len, &s->net_extra); break;
		case TAG_TTY: ret = spec_bool(val, len, &s->tty); break;
		case TAG_STDIN: ret = spec_bool(val, len, &s->stdin); break;
		case TAG_READ_ONLY: ret = spec_bool(val, len, &s->read_only); break;
		case TAG_EPHEMERAL: ret = spec_bool(val, len, &s->ephemeral); break;
		case TAG_INIT: ret = spec_bool(val, len, &s->init); break;
		case TAG_ROWS:
			ret = proto_get_range(val, len, UINT16_MAX, &v);
			s->rows = v;
			break;
		case TAG_COLS:
			ret = proto_get_range(val, len, UINT16_MAX, &v);
			s->cols = v;
			break;
		case TAG_MEMORY_MAX: ret = proto_get_u64(val, len, &s->memory_max); break;
		case TAG_PIDS_MAX: ret = proto_get_u64(val, len, &s->pids_max); break;
		case TAG_CPU_QUOTA: ret = proto_get_range(val, len, UINT32_MAX, &s->cpu_quota_us); break;
		case TAG_CPU_PERIOD: ret = proto_get_range(val, len, 1000000, &s->cpu_period_us); break;
		case TAG_MOUNT: ret = spec_mount(c, val, len, s->mounts); break;
		default: ret = 0; break;	/* a newer host's field */
		}
		if (ret)
			return ret;
	}
	return ret;
}

int proto_spec_decode(const void *p, size_t n, struct proto_spec *s)
{
	struct spec_ctx c = { .fill = false };
	size_t ptrs, size;
	char **pp;
	char *arena;
	int ret;

	memset(s, 0, sizeof(*s));
	if (n > PROTO_MAX_PAYLOAD)
		return -E2BIG;
	ret = spec_pass(&c, p, n, s);
	if (ret)
		return ret;
	if (!c.nargv)
		return -EINVAL;
	if (s->cpu_period_us && s->cpu_period_us < 1000)
		return -EINVAL;
	/* Pointer arrays (each NULL-terminated), mounts, then the strings. */
	ptrs = (size_t)c.nargv + c.nenv + c.ngroups + c.nhosts + c.ndns + c.nsearch + c.nrlimits + 7;
	size = ptrs * sizeof(char *) + (size_t)c.nmounts * sizeof(struct proto_mount) + c.strings;
	arena = calloc(1, size);
	if (!arena)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	pp = (char **)arena;
	s->argv = pp; pp += c.nargv + 1;
	s->env = pp; pp += c.nenv + 1;
	s->groups = pp; pp += c.ngroups + 1;
	s->hosts = pp; pp += c.nhosts + 1;
	s->dns = pp; pp += c.ndns + 1;
	s->dns_search = pp; pp += c.nsearch + 1;
	s->rlimits = pp; pp += c.nrlimits + 1;
	s->mounts = (struct proto_mount *)pp;
	s->arena = arena;
	c = (struct spec_ctx){ .fill = true, .strpool = (char *)(s->mounts + c.nmounts) };
	ret = spec_pass(&c, p, n, s);
	if (ret) {
		proto_spec_free(s);
		return ret;
	}
	s->argc = c.nargv;
	s->nenv = c.nenv;
	s->ngroups = c.ngroups;
	s->nhosts = c.nhosts;
	s->ndns = c.ndns;
	s->ndns_search = c.nsearch;
	s->nrlimits = c.nrlimits;
	s->nmounts = c.nmounts;
	return 0;
}

void proto_spec_free(struct proto_spec *s)
{
	free(s->arena);
	memset(s, 0, sizeof(*s));
}

int proto_started_encode(struct proto_buf *b, uint16_t stream, const struct proto_started *s)
{
	proto_begin(b, PROTO_STARTED, stream);
	proto_put_i64(b, TAG_PID, s->pid);
	proto_put_i64(b, TAG_CODE, s->code);
	proto_put_str(b, TAG_MESSAGE, s->message);
	return proto_end(b);
}

int proto_started_decode(const void *p, size_t n, struct proto_started *s, char *strbuf, size_t strbuf_len)
{
	struct proto_reader r;
	const uint8_t *val;
	size_t used = 0;
	uint32_t len;
	uint16_t tag;
	uint64_t v = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	proto_reader_init(&r, p, n);
	while ((ret = proto_next(&r, &tag, &val, &len)) > 0) {
		switch (tag) {
		case TAG_PID:
			ret = proto_get_range(val, len, INT32_MAX, &v);
			s->pid = v;
			break;
		case TAG_CODE:
			ret = proto_get_range(val, len, 255, &v);
			s->code = v;
			break;
		case TAG_MESSAGE:
			ret = proto_take_str(val, len, strbuf, strbuf_len, &used, &s->message);
			break;
		default:
			ret = 0;
		}
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	/* Either a process or a failure, never both or neither. */
	return (s->pid > 0) != (s->code == 0) ? -EINVAL : 0;
}

int proto_exit_encode(struct proto_buf *b, uint16_t stream, const struct proto_exit *e)
{
	proto_begin(b, PROTO_EXIT, stream);
	proto_put_i64(b, TAG_CODE, e->code);
	put_nonzero(b, TAG_SIGNAL, e->signal);
	put_nonzero(b, TAG_OOM, e->oom);
	return proto_end(b);
}

int proto_exit_decode(const void *p, size_t n, struct proto_exit *e)
{
	struct proto_reader r;
	const uint8_t *val;
	bool have_code = false;
	uint32_t len;
	uint16_t tag;
	uint64_t v = 0;
	int ret;

	memset(e, 0, sizeof(*e));
	proto_reader_init(&r, p, n);
	while ((ret = proto_next(&r, &tag, &val, &len)) > 0) {
		switch (tag) {
		case TAG_CODE:
			ret = proto_get_range(val, len, 255, &v);
			e->code = v;
			have_code = true;
			break;
		case TAG_SIGNAL:
			ret = proto_get_range(val, len, 127, &v);
			e->signal = v;
			break;
		case TAG_OOM:
			ret = spec_bool(val, len, &e->oom);
			break;
		default:
			ret = 0;
		}
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	return have_code ? 0 : -EINVAL;
}

int proto_stats_encode(struct proto_buf *b, uint16_t stream, const struct proto_stats *s)
{
	proto_begin(b, PROTO_STATS_RESULT, stream);
	proto_put_u64(b, TAG_STAT_MEM, s->mem);
	proto_put_u64(b, TAG_STAT_MEM_MAX, s->mem_max);
	proto_put_u64(b, TAG_STAT_PIDS, s->pids);
	return proto_end(b);
}

int proto_stats_decode(const void *p, size_t n, struct proto_stats *s)
{
	struct proto_reader r;
	const uint8_t *val;
	uint32_t len;
	uint16_t tag;
	int ret;

	memset(s, 0, sizeof(*s));
	proto_reader_init(&r, p, n);
	while ((ret = proto_next(&r, &tag, &val, &len)) > 0) {
		uint64_t *field = tag == TAG_STAT_MEM ? &s->mem : tag == TAG_STAT_MEM_MAX ? &s->mem_max :
				  tag == TAG_STAT_PIDS ? &s->pids : NULL;

		if (field && (ret = proto_get_u64(val, len, field)))
			return ret;
	}
	return ret < 0 ? ret : 0;
}

int proto_result_encode(struct proto_buf *b, uint16_t stream, const struct proto_result *res)
{
	proto_begin(b, PROTO_RESULT, stream);
	proto_put_i64(b, TAG_CODE, res->code);
	proto_put_str(b, TAG_MESSAGE, res->message);
	return proto_end(b);
}

int proto_result_decode(const void *p, size_t n, struct proto_result *res, char *strbuf, size_t strbuf_len)
{
	struct proto_reader r;
	const uint8_t *val;
	size_t used = 0;
	uint32_t len;
	uint16_t tag;
	uint64_t v = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	proto_reader_init(&r, p, n);
	while ((ret = proto_next(&r, &tag, &val, &len)) > 0) {
		switch (tag) {
		case TAG_CODE:
			ret = proto_get_range(val, len, 4095, &v);
			res->code = v;
			break;
		case TAG_MESSAGE:
			ret = proto_take_str(val, len, strbuf, strbuf_len, &used, &res->message);
			break;
		default:
			ret = 0;
		}
		if (ret)
			return ret;
	}
	return ret;
}

int proto_u64_encode(struct proto_buf *b, uint16_t type, uint16_t stream, uint16_t tag, uint64_t v)
{
	proto_begin(b, type, stream);
	proto_put_u64(b, tag, v);
	return proto_end(b);
}

int proto_u64_decode(const void *p, size_t n, uint16_t want, uint64_t *v)
{
	struct proto_reader r;
	const uint8_t *val;
	bool found = false;
	uint32_t len;
	uint16_t tag;
	int ret;

	proto_reader_init(&r, p, n);
	while ((ret = proto_next(&r, &tag, &val, &len)) > 0) {
		if (tag != want)
			continue;
		if (proto_get_u64(val, len, v))
			return -EINVAL;
		found = true;
	}
	if (ret < 0)
		return ret;
	return found ? 0 : -EINVAL;
}

int proto_resize_encode(struct proto_buf *b, uint16_t stream, uint16_t rows, uint16_t cols)
{
	proto_begin(b, PROTO_RESIZE, stream);
	proto_put_u64(b, TAG_ROWS, rows);
	proto_put_u64(b, TAG_COLS, cols);
	return proto_end(b);
}

int proto_resize_decode(const void *p, size_t n, uint16_t *rows, uint16_t *cols)
{
	uint64_t r, c;

	if (proto_u64_decode(p, n, TAG_ROWS, &r) || proto_u64_decode(p, n, TAG_COLS, &c))
		return -EINVAL;
	if (r > UINT16_MAX || c > UINT16_MAX)
		return -EINVAL;
	*rows = r;
	*cols = c;
	return 0;
}

int proto_path_encode(struct proto_buf *b, uint16_t type, uint16_t stream, const char *path)
{
	proto_begin(b, type, stream);
	proto_put_str(b, TAG_PATH, path);
	return proto_end(b);
}

int proto_path_decode(const void *p, size_t n, char *path, size_t path_len)
{
	struct proto_reader r;
	const uint8_t *val;
	const char *s = NULL;
	uint32_t len;
	uint16_t tag;
	int ret;

	proto_reader_init(&r, p, n);
	while ((ret = proto_next(&r, &tag, &val, &len)) > 0) {
		size_t used = 0;

		if (tag != TAG_PATH)
			continue;
		if (!len)
			return -EINVAL;
		ret = proto_take_str(val, len, path, path_len, &used, &s);
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	return s ? 0 : -EINVAL;
}

void proto_top_begin(struct proto_buf *b, uint16_t stream)
{
	proto_begin(b, PROTO_TOP_RESULT, stream);
}

void proto_top_add(struct proto_buf *b, const struct proto_proc *p)
{
	size_t h = proto_nest_begin(b, TAG_PROC);

	proto_put_i64(b, TAG_PROC_PID, p->pid);
	proto_put_str(b, TAG_PROC_USER, p->user);
	proto_put_u64(b, TAG_PROC_TIME, p->time_ms);
	proto_put_str(b, TAG_PROC_CMD, p->cmd);
	proto_nest_end(b, h);
}

int proto_top_end(struct proto_buf *b)
{
	return proto_end(b);
}

int proto_top_next(struct proto_reader *r, struct proto_proc *proc, char *strbuf, size_t strbuf_len)
{
	const uint8_t *val;
	uint32_t len;
	uint16_t tag;
	int ret;

	while ((ret = proto_next(r, &tag, &val, &len)) > 0) {
		struct proto_reader in;
		const uint8_t *v;
		size_t used = 0;
		uint64_t x = 0;
		uint32_t l;
		uint16_t t;

		if (tag != TAG_PROC)
			continue;
		memset(proc, 0, sizeof(*proc));
		proto_reader_init(&in, val, len);
		while ((ret = proto_next(&in, &t, &v, &l)) > 0) {
			switch (t) {
			case TAG_PROC_PID:
				ret = proto_get_range(v, l, INT32_MAX, &x);
				proc->pid = x;
				break;
			case TAG_PROC_USER:
				ret = proto_take_str(v, l, strbuf, strbuf_len, &used, &proc->user);
				break;
			case TAG_PROC_TIME:
				ret = proto_get_u64(v, l, &proc->time_ms);
				break;
			case TAG_PROC_CMD:
				ret = proto_take_str(v, l, strbuf, strbuf_len, &used, &proc->cmd);
				break;
			default:
				ret = 0;
			}
			if (ret)
				return ret;
		}
		if (ret < 0)
			return ret;
		return proc->pid > 0 ? 1 : -EINVAL;
	}
	return ret;
}

const char *proto_type_name(uint16_t type)
{
	static const char *const names[PROTO_TYPE_MAX] = {
		[PROTO_HELLO] = "HELLO", [PROTO_RUN] = "RUN", [PROTO_EXEC] = "EXEC",
		[PROTO_STARTED] = "STARTED", [PROTO_STDIN] = "STDIN", [PROTO_STDIN_EOF] = "STDIN_EOF",
		[PROTO_STDOUT] = "STDOUT", [PROTO_STDERR] = "STDERR", [PROTO_WINDOW] = "WINDOW",
		[PROTO_RESIZE] = "RESIZE", [PROTO_SIGNAL] = "SIGNAL", [PROTO_EXIT] = "EXIT",
		[PROTO_CP_IN] = "CP_IN", [PROTO_CP_OUT] = "CP_OUT", [PROTO_TAR_DATA] = "TAR_DATA",
		[PROTO_TAR_END] = "TAR_END", [PROTO_RESULT] = "RESULT", [PROTO_TOP] = "TOP",
		[PROTO_TOP_RESULT] = "TOP_RESULT", [PROTO_TIME_SYNC] = "TIME_SYNC",
		[PROTO_RESEED] = "RESEED", [PROTO_SHUTDOWN] = "SHUTDOWN", [PROTO_STATS] = "STATS",
		[PROTO_STATS_RESULT] = "STATS_RESULT", [PROTO_NET_ADDRS] = "NET_ADDRS",
	};

	return type < PROTO_TYPE_MAX && names[type] ? names[type] : "UNKNOWN";
}
