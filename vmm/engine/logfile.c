#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/engine/logfile.h"
#include "vmm/base/util.h"

int logfile_open(struct logfile *lf, const char *path)
{
	memset(lf, 0, sizeof(*lf));
	lf->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	return lf->fd < 0 ? -1 : 0;
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
	if (write_full(lf->fd, text, strlen(text)) == 0)
		write_full(lf->fd, "\n", 1);
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
