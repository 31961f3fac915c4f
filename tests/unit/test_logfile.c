/* The json-file log's caps (engine/logfile.c): --log-opt max-size and max-file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/base/error.h"
#include "vmm/engine/logfile.h"

static long size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

static int count_lines(const char *path, char *last, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;

	while (f && fgets(line, sizeof(line), f)) {
		n++;
		snprintf(last, len, "%s", line);
	}
	if (f)
		fclose(f);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/vmm-logfile-XXXXXX", path[256], old[300], last[512] = "";
	struct log_opts o = { 0 };
	struct error e = { 0 };
	struct logfile lf;
	int total = 0;

	ok(log_opt_parse("max-size=10m", &o, &e) == 0 && o.max_size == 10 << 20, "max-size=10m");
	ok(log_opt_parse("max-file=3", &o, &e) == 0 && o.max_file == 3, "max-file=3");
	ok(log_opt_parse("max-size=-1", &o, &e) == 0 && o.max_size == 0, "max-size=-1: no cap, as docker's");
	ok(log_opt_parse("max-size=1", &o, &e) == -EINVAL && strstr(e.msg, "--log-opt max-size=1"),
	   "a cap below 4k refused: %s", e.msg);
	ok(log_opt_parse("max-file=0", &o, &e) == -EINVAL, "max-file=0 refused");
	ok(log_opt_parse("mode=non-blocking", &o, &e) == -EINVAL && strstr(e.msg, "unknown log option"),
	   "an unknown option, named: %s", e.msg);

	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof(path), "%s/container.log", dir);
	ok(logfile_open(&lf, path, 4096, 3) == 0, "open with max-size 4k, max-file 3");
	for (int i = 0; i < 500; i++) {
		char line[64];

		snprintf(line, sizeof(line), "line %d\n", i);
		logfile_write(&lf, i % 2 ? LOG_STDERR : LOG_STDOUT, line, strlen(line));
	}
	logfile_close(&lf);
	ok(size_of(path) > 0 && size_of(path) <= 4096, "the file stays under its cap (%ld)", size_of(path));
	logfile_rotated(path, 1, old, sizeof(old));
	ok(size_of(old) > 0 && size_of(old) <= 4096, "path.1: the newest old file (%ld)", size_of(old));
	total += count_lines(old, last, sizeof(last));
	logfile_rotated(path, 2, old, sizeof(old));
	ok(size_of(old) > 0 && size_of(old) <= 4096, "path.2 (%ld)", size_of(old));
	total += count_lines(old, last, sizeof(last));
	logfile_rotated(path, 3, old, sizeof(old));
	ok(size_of(old) < 0, "no path.3: max-file 3 counts the file itself");
	total += count_lines(path, last, sizeof(last));
	ok(strstr(last, "\"log\":\"line 499\\n\"") != NULL, "the newest line is last in the file: %s", last);
	ok(total > 100 && total < 500, "the oldest lines went (%d kept)", total);

	/* max-file 1: the file starts over */
	ok(logfile_open(&lf, path, 4096, 1) == 0, "open with max-file 1");
	for (int i = 0; i < 500; i++)
		logfile_write(&lf, LOG_STDOUT, "x\n", 2);
	logfile_close(&lf);
	ok(size_of(path) > 0 && size_of(path) <= 4096, "max-file 1: the one file stays under its cap (%ld)",
	   size_of(path));

	snprintf(old, sizeof(old), "rm -rf '%s'", dir);
	if (system(old))
		return 2;
	return tap_done();
}
