/*
 * Container logs in docker's json-file format, one JSON object per line:
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-22T20:00:00.123456789Z"}
 * Output is split at newlines; a partial line waits for the rest (or for
 * logfile_flush at the end). With a max_size (docker's --log-opt max-size),
 * a line that would pass it rotates the files first: path.1 is the
 * newest old file, up to path.(max_file - 1); max_file 1 starts path over.
 */
#ifndef VMM_ENGINE_LOGFILE_H
#define VMM_ENGINE_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

#define LOGFILE_LINE_MAX 16384	/* longer lines are split, as docker does */

enum log_stream { LOG_STDOUT, LOG_STDERR };

#define LOGFILE_FILES_MAX 100	/* --log-opt max-file */

struct logfile {
	int fd;
	char path[4096];
	uint64_t size;		/* of path now */
	uint64_t max_size;	/* 0: no limit */
	unsigned max_file;	/* files kept with max_size, path included (>= 1) */
	char pending[2][LOGFILE_LINE_MAX];
	size_t pending_len[2];
};

/* Open path to append; max_size 0: it grows without limit. 0 or -errno. */
int logfile_open(struct logfile *lf, const char *path, uint64_t max_size, unsigned max_file);
/* Caps of the json-file log (docker's --log-opt): max_size 0 is none. */
struct log_opts {
	uint64_t max_size;
	unsigned max_file;	/* 0: docker's default, 1 */
};
struct error;
/* One --log-opt KEY=VALUE (max-size=10m, max-file=3) into o. 0 or -EINVAL with e. */
int log_opt_parse(const char *kv, struct log_opts *o, struct error *e);

/* docker's HostConfig.LogConfig: {"Type":"json-file","Config":{"max-size":"N","max-file":"N"}}. */
struct json_object;
struct json_object *log_opts_to_json(const struct log_opts *o);
/* Parse it back (absent: no caps). 0 or -EINVAL with e. */
int log_opts_parse(struct json_object *host_config, struct log_opts *o, struct error *e);

/* name.N (N >= 1: the Nth newest old file) into buf; 0 or -ENAMETOOLONG. */
int logfile_rotated(const char *path, unsigned n, char *buf, size_t len);
void logfile_write(struct logfile *lf, enum log_stream s, const void *data, size_t len);
void logfile_flush(struct logfile *lf);
void logfile_close(struct logfile *lf);

#endif
