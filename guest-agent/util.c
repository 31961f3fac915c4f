/* Small helpers for the agent, without stdio (it would double the binary). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest-agent/agent.h"

size_t scat(char *dst, size_t cap, const char *first, ...)
{
	size_t len = 0;
	va_list ap;

	if (!cap)
		return 0;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		if (n > cap - 1 - len)
			n = cap - 1 - len;
		memcpy(dst + len, s, n);
		len += n;
	}
	va_end(ap);
	dst[len] = 0;
	return len;
}

bool agent_tracing;

void trace(const char *what)
{
	struct timespec ts;
	char ms[21];

	if (!agent_tracing)
		return;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	say("t=", utoa((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, ms), " ms: ", what, NULL);
}

void say(const char *first, ...)
{
	char line[512];
	size_t len = scat(line, sizeof(line) - 1, "vmm-agent: ", NULL);
	va_list ap;

	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		len += scat(line + len, sizeof(line) - 1 - len, s, NULL);
	va_end(ap);
	line[len++] = '\n';
	write_full(STDERR_FILENO, line, len);
}

char *utoa(uint64_t v, char *buf)
{
	char tmp[21];
	int n = 0, i = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = 0;
	return buf;
}

ssize_t read_text(int dirfd, const char *path, char *buf, size_t cap)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = 0;
	return len;
}

int write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_CREAT | O_TRUNC, 0644);
	int ret;

	if (fd < 0)
		return -errno;
	ret = write_full(fd, s, strlen(s));
	close(fd);
	return ret;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void agent_result(struct agent *a, uint16_t stream, int code, const char *msg)
{
	struct proto_result r = { .code = code, .message = msg };

	proto_result_encode(&a->out, stream, &r);
}
