#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/engine/ctl.h"
#include "vmm/base/util.h"

int ctl_path(const char *runtime, const char *id, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s/ctl.sock", runtime, id) >= len ||
	    strlen(buf) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int addr_of(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	return 0;
}

int ctl_listen(const char *path)
{
	struct sockaddr_un a;
	int fd, ret = addr_of(path, &a);

	if (!ret)
		ret = mkdir_parent(path, 0700);
	if (!ret) {
		/* A folder someone else made (or can write) could swap our socket for theirs. */
		char dir[sizeof(a.sun_path)], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			ret = dir_is_private(dir);
		}
	}
	if (ret)
		return ret;
	unlink(path);	/* a stale socket of a dead vmm */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int ctl_connect(const char *path)
{
	struct sockaddr_un a;
	int fd, ret = addr_of(path, &a);

	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int ctl_send(int fd, json_object *msg, const int *fds, unsigned nfds)
{
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	char *line = malloc(len + 1);
	union {
		char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int ret = 0;

	if (!line)
		return -ENOMEM;
	memcpy(line, text, len);
	line[len] = '\n';
	iov.iov_base = line;
	iov.iov_len = len + 1;
	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n < len + 1)	/* the rest without the fds */
		ret = write_full(fd, line + n, len + 1 - n);
	free(line);
	return ret;
}

static void take_fds(struct ctl_reader *r, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (r->nfds < CTL_MAX_FDS)
				r->fds[r->nfds++] = fd;
			else
				close(fd);	/* more than a message may carry */
		}
	}
}

int ctl_recv(int fd, struct ctl_reader *r, json_object **msg, int *fds, unsigned *nfds)
{
	for (;;) {
		char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		union {
			char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
			struct cmsghdr align;
		} u;
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
		ssize_t n;

		if (nl) {
			size_t line = nl - r->buf;

			*nl = '\0';
			*msg = json_tokener_parse(r->buf);
			memmove(r->buf, nl + 1, r->len - line - 1);
			r->len -= line + 1;
			memcpy(fds, r->fds, r->nfds * sizeof(int));
			*nfds = r->nfds;
			r->nfds = 0;
			if (!*msg || !json_object_is_type(*msg, json_type_object)) {
				json_object_put(*msg);
				for (unsigned i = 0; i < *nfds; i++)
					close(fds[i]);
				return -EINVAL;
			}
			return 1;
		}
		if (r->len == CTL_LINE_MAX)
			return -E2BIG;
		if (r->cap - r->len < 4096) {
			size_t cap = MIN(r->cap ? r->cap * 2 : 8192, (size_t)CTL_LINE_MAX);
			char *b = realloc(r->buf, cap);

			if (!b)
				return -ENOMEM;
			r->buf = b;
			r->cap = cap;
		}
		iov.iov_base = r->buf + r->len;
		iov.iov_len = r->cap - r->len;
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		take_fds(r, &mh);
		if (n == 0)
			return -EPIPE;
		r->len += n;
	}
}

void ctl_reader_free(struct ctl_reader *r)
{
	for (unsigned i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
