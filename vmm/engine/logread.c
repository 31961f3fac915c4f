/* Reading container logs (logread.h). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/timestamp.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/logfile.h"
#include "vmm/engine/logread.h"

#define LOG_READ_MAX (1ULL << 30)

/* One json-file line to the sink; lines that are not ours are skipped. */
static int emit_line(const char *line, size_t len, const struct log_read_opts *o)
{
	json_object *j = json_tokener_parse(line), *log, *stream, *when;
	int ret = 0;

	(void)len;
	if (!j)
		return 0;
	if (json_object_object_get_ex(j, "log", &log) && json_object_is_type(log, json_type_string)) {
		enum log_stream s = json_object_object_get_ex(j, "stream", &stream) &&
				    !strcmp(json_object_get_string(stream), "stderr") ? LOG_STDERR : LOG_STDOUT;
		const char *t = json_object_object_get_ex(j, "time", &when) ? json_object_get_string(when) : "";
		int64_t ns = 0;

		if ((o->since_ns || o->until_ns) && timestamp_parse(t, 0, &ns))
			ns = 0;		/* no time: before everything */
		if (o->until_ns && ns >= o->until_ns)
			ret = -1;	/* the log is in time order: nothing after this is wanted */
		else if (!o->since_ns || ns >= o->since_ns)
			ret = o->sink(o->arg, s, t, json_object_get_string(log), json_object_get_string_len(log));
	}
	json_object_put(j);
	return ret;
}

/* Emit the complete lines of buf[0..len); *used: how many bytes they took. */
static int emit_lines(char *buf, size_t len, size_t *used, const struct log_read_opts *o)
{
	size_t start = 0;
	int ret = 0;

	for (size_t i = 0; i < len && ret >= 0; i++) {
		if (buf[i] != '\n')
			continue;
		buf[i] = '\0';
		ret = emit_line(buf + start, i - start, o);
		start = i + 1;
	}
	*used = start;
	return ret;
}

/* The byte offset where the last n lines start (n < 0: all). */
static size_t tail_offset(const char *data, size_t len, long n)
{
	size_t i = len;

	if (n < 0)
		return 0;
	if (n == 0)
		return len;
	if (i && data[i - 1] == '\n')
		i--;
	for (; i > 0; i--)
		if (data[i - 1] == '\n' && --n == 0)
			return i;
	return 0;
}

/* Add the file at path to *data; its length, or -errno (-ENOENT: there is none). */
static ssize_t append_file(const char *path, char **data, size_t *len)
{
	char *part = NULL, *grown;
	size_t plen = 0;
	int ret = read_file(AT_FDCWD, path, LOG_READ_MAX, &part, &plen);

	if (ret)
		return ret;
	grown = realloc(*data, *len + plen + 1);
	if (grown) {
		memcpy(grown + *len, part, plen);
		*data = grown;
		*len += plen;
	}
	free(part);
	return grown ? (ssize_t)plen : -ENOMEM;
}

/*
 * The log as one text: the rotated files (path.N ... path.1, oldest first)
 * and then path. *cur: how many of the bytes are path's. -ENOENT: nothing
 * logged yet.
 */
static int read_all(const char *path, char **data, size_t *len, size_t *cur)
{
	ssize_t n;
	int ret = -ENOENT;

	*data = NULL;
	*len = *cur = 0;
	for (unsigned i = LOGFILE_FILES_MAX; i > 0; i--) {
		char old[4200];

		if (!logfile_rotated(path, i, old, sizeof(old)) && append_file(old, data, len) >= 0)
			ret = 0;
	}
	n = append_file(path, data, len);
	if (n >= 0) {
		*cur = n;
		ret = 0;
	} else if (n != -ENOENT) {
		ret = (int)n;
	}
	if (ret) {
		free(*data);
		*data = NULL;
	}
	return ret;
}

/* The tail of what is logged now; *end: where following goes on in path (a partial last line waits). */
static int read_tail(const char *path, const struct log_read_opts *o, off_t *end, struct error *e)
{
	char *data = NULL;
	size_t len = 0, cur = 0, start, stop, used;
	int ret = read_all(path, &data, &len, &cur);

	*end = 0;
	if (ret == -ENOENT)
		return 0;	/* nothing logged yet */
	if (ret)
		return err_sys(e, ret, "%s", path);
	start = tail_offset(data, len, o->tail);
	stop = len;
	while (stop > start && data[stop - 1] != '\n')
		stop--;
	ret = emit_lines(data + start, stop - start, &used, o);
	free(data);
	*end = stop > len - cur ? stop - (len - cur) : 0;
	return ret < 0 ? 1 : 0;
}

/*
 * Wait (heartbeats to the sink meanwhile) until ct runs: its state says it started since
 * started_ns, or it says running and its vmm holds the lock. The lock alone is not
 * enough: whoever starts a container holds it while preparing the run, before the run's
 * log exists (docker run attaches, then starts).
 */
static int await_start(struct container *ct, int64_t started_ns, const struct log_read_opts *o)
{
	/* woken by the state the run renames in (a second covers a missed event) */
	int in = inotify_init1(IN_CLOEXEC), ret = 0;
	struct pollfd p = { .fd = in, .events = POLLIN };
	char ev[4096];

	if (in >= 0 && inotify_add_watch(in, ct->dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(in);
		p.fd = in = -1;
	}
	for (;;) {
		if (container_reload_state(ct) == 0 &&
		    (ct->state.started_ns != started_ns ||
		     (ct->state.status == CONTAINER_RUNNING && container_is_running(ct))))
			break;
		if (o->sink(o->arg, LOG_STDOUT, NULL, NULL, 0) < 0) {
			ret = -1;
			break;
		}
		if (in < 0)
			poll(NULL, 0, 100);
		else if (poll(&p, 1, 1000) > 0 && read(in, ev, sizeof(ev)) < 0)
			poll(NULL, 0, 100);
	}
	if (in >= 0)
		close(in);
	return ret;
}

/*
 * Has the log been rotated under fd: renamed away (a new path), or started
 * over (truncated: fd is then rewound)?
 */
static bool rotated(int fd, const char *path)
{
	struct stat a, b;
	off_t pos = lseek(fd, 0, SEEK_CUR);

	if (fstat(fd, &a) < 0)
		return false;
	if (a.st_size < pos)
		lseek(fd, 0, SEEK_SET);
	return stat(path, &b) == 0 && (b.st_ino != a.st_ino || b.st_dev != a.st_dev);
}

/*
 * The file that came after the one fd reads, now that it was rotated: the
 * next newer of path.N ... path.1, path; if it was rotated away, the oldest left.
 */
static void next_file(int fd, const char *path, char *next, size_t len)
{
	struct stat ours, st;
	bool known = fstat(fd, &ours) == 0, after = false;
	char oldest[4200] = "";

	for (unsigned n = LOGFILE_FILES_MAX; n >= 1; n--) {
		char old[4200];

		if (logfile_rotated(path, n, old, sizeof(old)) || stat(old, &st) < 0)
			continue;
		if (after) {
			snprintf(next, len, "%s", old);
			return;
		}
		if (!oldest[0])
			snprintf(oldest, sizeof(oldest), "%s", old);
		after = known && st.st_ino == ours.st_ino && st.st_dev == ours.st_dev;
	}
	snprintf(next, len, "%s", after || !oldest[0] ? path : oldest);
}

/* Read what path gets from offset on, while ct runs; then what is left. */
static int follow(struct container *ct, const char *path, off_t off, const struct log_read_opts *o)
{
	char buf[65536], next[4200];
	size_t have = 0;
	int in = inotify_init1(IN_CLOEXEC), fd = -1, ret = 0;
	bool last = false;

	snprintf(next, sizeof(next), "%s", path);
	/* the run's end wakes us too: its vmm closes the lock it held open for writing, and
	 * renames its last state in; without it, a run that ends without a last line is seen a
	 * poll's timeout later (docker run --rm true waited a second more through the API) */
	if (in >= 0)
		inotify_add_watch(in, ct->dir, IN_CLOSE_WRITE | IN_MOVED_TO);
	while (ret >= 0) {
		ssize_t n = 0;

		if (fd < 0 && (fd = open(next, O_RDONLY | O_CLOEXEC)) >= 0) {
			lseek(fd, off, SEEK_SET);
			if (in >= 0)	/* a rotation's rename wakes us too */
				inotify_add_watch(in, path, IN_MODIFY | IN_MOVE_SELF);
		}
		if (fd >= 0)
			n = read(fd, buf + have, sizeof(buf) - have);
		if (n > 0) {
			size_t used;

			have += n;
			ret = emit_lines(buf, have, &used, o);
			memmove(buf, buf + used, have - used);
			have -= used;
			if (have == sizeof(buf))
				have = 0;	/* an absurd line: drop it */
			continue;
		}
		if (fd >= 0 && rotated(fd, path)) {
			next_file(fd, path, next, sizeof(next));
			close(fd);	/* read to its end: on with the file after it, from its start */
			fd = -1;
			off = 0;
			continue;
		}
		if (last)
			break;
		if (!container_is_running(ct)) {
			last = true;	/* one more read: what it wrote as it ended */
			continue;
		}
		if (o->sink(o->arg, LOG_STDOUT, NULL, NULL, 0) < 0 ||
		    (o->until_ns && realtime_ns() >= o->until_ns))
			break;
		if (in >= 0 && fd >= 0) {
			struct pollfd p = { .fd = in, .events = POLLIN };
			char ev[4096];

			if (poll(&p, 1, 1000) > 0 && read(in, ev, sizeof(ev)) < 0)
				break;
		} else {
			poll(NULL, 0, 200);
		}
	}
	if (fd >= 0)
		close(fd);
	if (in >= 0)
		close(in);
	return 0;
}

int engine_logs(struct container *ct, const struct log_read_opts *o, struct error *e)
{
	int64_t started = ct->state.started_ns;
	char path[4096];
	off_t end;
	int ret;

	if ((ret = container_path(ct, "container.log", path, sizeof(path))))
		return err_sys(e, ret, "container %s: its log", ct->cfg.name);
	ret = read_tail(path, o, &end, e);
	if (ret)
		return ret < 0 ? ret : 0;
	if (!o->follow)
		return 0;
	if (o->await_start && await_start(ct, started, o) < 0)
		return 0;
	return follow(ct, path, end, o);
}
