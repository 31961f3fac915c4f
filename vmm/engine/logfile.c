#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/engine/logfile.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

int log_opt_parse(const char *kv, struct log_opts *o, struct error *e)
{
	const char *eq = strchr(kv, '=');
	uint64_t v;

	if (eq && !strncmp(kv, "max-size=", 9)) {
		if (!strcmp(eq + 1, "-1"))
			o->max_size = 0;
		else if (parse_size(eq + 1, 1, &v) || v < 4096)
			return err_set(e, -EINVAL, "--log-opt %s: a size of at least 4k, like 10m", kv);
		else
			o->max_size = v;
		return 0;
	}
	if (eq && !strncmp(kv, "max-file=", 9)) {
		if (parse_uint(eq + 1, 1, LOGFILE_FILES_MAX, &v))
			return err_set(e, -EINVAL, "--log-opt %s: a number of files from 1 to %d", kv,
				       LOGFILE_FILES_MAX);
		o->max_file = v;
		return 0;
	}
	return err_set(e, -EINVAL, "--log-opt %s: unknown log option (vmm's json-file log takes "
		       "max-size and max-file)", kv);
}

json_object *log_opts_to_json(const struct log_opts *o)
{
	json_object *lc = json_object_new_object(), *cfg = json_object_new_object();
	char v[32];

	json_object_object_add(lc, "Type", json_object_new_string("json-file"));
	if (o->max_size) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)o->max_size);
		json_object_object_add(cfg, "max-size", json_object_new_string(v));
	}
	if (o->max_file) {
		snprintf(v, sizeof(v), "%u", o->max_file);
		json_object_object_add(cfg, "max-file", json_object_new_string(v));
	}
	json_object_object_add(lc, "Config", cfg);
	return lc;
}

int log_opts_parse(json_object *host_config, struct log_opts *o, struct error *e)
{
	json_object *lc, *cfg;

	memset(o, 0, sizeof(*o));
	if (!json_object_object_get_ex(host_config, "LogConfig", &lc) ||
	    !json_object_object_get_ex(lc, "Config", &cfg) || !json_object_is_type(cfg, json_type_object))
		return 0;
	json_object_object_foreach(cfg, key, val) {
		char kv[128];
		int ret;

		if (!json_object_is_type(val, json_type_string))
			return err_set(e, -EINVAL, "HostConfig.LogConfig.Config.%s: want a string", key);
		snprintf(kv, sizeof(kv), "%s=%s", key, json_object_get_string(val));
		if ((ret = log_opt_parse(kv, o, e)))
			return ret;
	}
	return 0;
}

int logfile_rotated(const char *path, unsigned n, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s.%u", path, n) >= len ? -ENAMETOOLONG : 0;
}

int logfile_open(struct logfile *lf, const char *path, uint64_t max_size, unsigned max_file)
{
	struct stat st;

	memset(lf, 0, sizeof(*lf));
	if ((size_t)snprintf(lf->path, sizeof(lf->path), "%s", path) >= sizeof(lf->path))
		return lf->fd = -1, -ENAMETOOLONG;
	lf->max_size = max_size;
	lf->max_file = max_file ? max_file : 1;
	lf->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (lf->fd < 0)
		return -errno;
	lf->size = fstat(lf->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

/* The current file to path.1, path.1 to path.2 ...; the oldest goes. One file: start over. */
static void rotate(struct logfile *lf)
{
	char from[4200], to[4200];

	if (lf->max_file == 1) {
		if (ftruncate(lf->fd, 0) == 0)
			lf->size = 0;
		return;
	}
	for (unsigned n = lf->max_file - 1; n >= 1; n--) {
		if (n == 1)
			snprintf(from, sizeof(from), "%s", lf->path);
		else
			logfile_rotated(lf->path, n - 1, from, sizeof(from));
		logfile_rotated(lf->path, n, to, sizeof(to));
		rename(from, to);
	}
	int fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd >= 0) {
		close(lf->fd);
		lf->fd = fd;
		lf->size = 0;
	}
}

static void emit(struct logfile *lf, enum log_stream s, const char *line, size_t len)
{
	json_object *o = json_object_new_object();
	struct timespec ts;
	struct tm tm;
	char when[64];
	const char *text;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%09ldZ", ts.tv_nsec);
	json_object_object_add(o, "log", json_object_new_string_len(line, len));
	json_object_object_add(o, "stream", json_object_new_string(s == LOG_STDOUT ? "stdout" : "stderr"));
	json_object_object_add(o, "time", json_object_new_string(when));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE);
	if (lf->max_size && lf->size && lf->size + strlen(text) + 1 > lf->max_size)
		rotate(lf);
	if (write_full(lf->fd, text, strlen(text)) == 0 && write_full(lf->fd, "\n", 1) == 0)
		lf->size += strlen(text) + 1;
	json_object_put(o);
}

void logfile_write(struct logfile *lf, enum log_stream s, const void *data, size_t len)
{
	const char *p = data;

	if (lf->fd < 0)
		return;
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t take = nl ? (size_t)(nl - p) + 1 : len;
		size_t room = LOGFILE_LINE_MAX - lf->pending_len[s];

		if (take > room)
			take = room;
		memcpy(lf->pending[s] + lf->pending_len[s], p, take);
		lf->pending_len[s] += take;
		p += take;
		len -= take;
		if (lf->pending[s][lf->pending_len[s] - 1] == '\n' || lf->pending_len[s] == LOGFILE_LINE_MAX) {
			emit(lf, s, lf->pending[s], lf->pending_len[s]);
			lf->pending_len[s] = 0;
		}
	}
}

void logfile_flush(struct logfile *lf)
{
	for (int s = 0; s < 2; s++) {
		if (lf->fd >= 0 && lf->pending_len[s])
			emit(lf, s, lf->pending[s], lf->pending_len[s]);
		lf->pending_len[s] = 0;
	}
}

void logfile_close(struct logfile *lf)
{
	logfile_flush(lf);
	if (lf->fd >= 0)
		close(lf->fd);
	lf->fd = -1;
}
