/* vmm logs: what a container wrote to stdout and stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

struct opts {
	bool timestamps;
	long tail;	/* -1: all */
};

static void print_line(const char *line, size_t len, const struct opts *o)
{
	json_object *j = json_tokener_parse(line);
	json_object *log, *stream, *when;
	FILE *out;

	(void)len;
	if (!j)
		return;
	if (json_object_object_get_ex(j, "log", &log) && json_object_is_type(log, json_type_string)) {
		out = json_object_object_get_ex(j, "stream", &stream) &&
		      !strcmp(json_object_get_string(stream), "stderr") ? stderr : stdout;
		if (o->timestamps && json_object_object_get_ex(j, "time", &when))
			fprintf(out, "%s ", json_object_get_string(when));
		fwrite(json_object_get_string(log), 1, json_object_get_string_len(log), out);
		fflush(out);
	}
	json_object_put(j);
}

/* Print complete lines from buf[0..len); return how many bytes were consumed. */
static size_t print_lines(char *buf, size_t len, const struct opts *o)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		buf[i] = '\0';
		print_line(buf + start, i - start, o);
		start = i + 1;
	}
	return start;
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

static int follow(struct container *ct, int fd, const struct opts *o)
{
	char buf[65536];
	size_t have = 0;
	char path[4096];
	int in = inotify_init1(IN_CLOEXEC);

	container_path(ct, "container.log", path, sizeof(path));
	if (in >= 0)
		inotify_add_watch(in, path, IN_MODIFY);
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);

		if (n > 0) {
			size_t used;

			have += n;
			used = print_lines(buf, have, o);
			memmove(buf, buf + used, have - used);
			have -= used;
			if (have == sizeof(buf))
				have = 0;	/* an absurd line: drop it */
			continue;
		}
		if (!container_is_running(ct))
			break;
		/* Wait for more output, re-checking the container now and then. */
		if (in >= 0) {
			struct pollfd p = { .fd = in, .events = POLLIN };
			char ev[4096];

			if (poll(&p, 1, 1000) > 0 && read(in, ev, sizeof(ev)) < 0)
				break;
		} else {
			poll(NULL, 0, 200);
		}
	}
	if (in >= 0)
		close(in);
	return 0;
}

int cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, 'n' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	struct opts o = { .tail = -1 };
	bool follow_flag = false;
	struct container *ct;
	char path[4096], *data = NULL;
	size_t len = 0;
	uint64_t v;
	int c, fd;

	while ((c = getopt_long(argc, argv, "fn:th", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow_flag = true; break;
		case 't': o.timestamps = true; break;
		case 'n':
			if (!strcmp(optarg, "all"))
				o.tail = -1;
			else if (parse_uint(optarg, 0, 1u << 30, &v))
				return cli_usage_error("logs", "--tail %s: not a number of lines", optarg);
			else
				o.tail = v;
			break;
		case 'h':
			printf("Usage: vmm logs [-f] [--tail N] [-t] CONTAINER\n\n"
			       "Print a container's stdout and stderr.\n\n"
			       "  -f, --follow       keep printing while it runs\n"
			       "  -n, --tail N       only the last N lines\n"
			       "  -t, --timestamps   prefix each line with its time\n");
			return 0;
		default:
			return cli_bad_option("logs", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("logs", "requires exactly one CONTAINER");
	if (container_open(cli->paths.root, argv[optind], &ct, &e))
		return cli_fail(&e, 1);
	container_path(ct, "container.log", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		container_free(ct);
		return 0;	/* nothing logged yet */
	}
	if (read_file(AT_FDCWD, path, 1ULL << 30, &data, &len) == 0) {
		size_t start = tail_offset(data, len, o.tail);
		size_t end = len;

		while (end > start && data[end - 1] != '\n')
			end--;	/* a line still being written: follow prints it */
		print_lines(data + start, end - start, &o);
		lseek(fd, end, SEEK_SET);
		free(data);
	}
	if (follow_flag)
		follow(ct, fd, &o);
	close(fd);
	container_free(ct);
	return 0;
}
