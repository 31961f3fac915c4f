/*
 * Container logs in docker's json-file format, one JSON object per line:
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-22T20:00:00.123456789Z"}
 * Output is split at newlines; a partial line waits for the rest (or for
 * logfile_flush at the end).
 */
#ifndef VMM_ENGINE_LOGFILE_H
#define VMM_ENGINE_LOGFILE_H

#include <stddef.h>

#define LOGFILE_LINE_MAX 16384	/* longer lines are split, as docker does */

enum log_stream { LOG_STDOUT, LOG_STDERR };

struct logfile {
	int fd;
	char pending[2][LOGFILE_LINE_MAX];
	size_t pending_len[2];
};

int logfile_open(struct logfile *lf, const char *path);
void logfile_write(struct logfile *lf, enum log_stream s, const void *data, size_t len);
void logfile_flush(struct logfile *lf);
void logfile_close(struct logfile *lf);

#endif
