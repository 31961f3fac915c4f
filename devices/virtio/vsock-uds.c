/*
 * The unix socket front end of virtio-vsock (Firecracker's protocol): host
 * programs connect to PATH and send "CONNECT <guest port>\n"; once the guest
 * accepts they read "OK <host port>\n" and the socket is the connection.
 * A refused or malformed request just closes the socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/virtio/vsock-core.h"
#include "devices/virtio/vsock-uds.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"
#include "vmm/base/util.h"

#define MAX_HANDSHAKES	16	/* clients still sending their CONNECT line */
#define LINE_MAX_LEN	32	/* "CONNECT 4294967295\n" is 19 */

struct handshake {
	struct vsock_uds *u;
	int fd;
	unsigned len;
	char line[LINE_MAX_LEN];
};

struct vsock_uds {
	struct vsock_core *core;
	struct event_loop *loop;
	char *path;
	int listen_fd;
	struct handshake hs[MAX_HANDSHAKES];
};

static void drop(struct handshake *h)
{
	loop_remove(h->u->loop, h->fd);
	close(h->fd);
	h->fd = -1;
}

/* "CONNECT <port>" (the newline already stripped): the port, or -EINVAL. */
int vsock_uds_parse_connect(const char *line, uint32_t *port)
{
	uint64_t v;

	if (!str_has_prefix(line, "CONNECT "))
		return -EINVAL;
	if (parse_uint(line + 8, 0, UINT32_MAX, &v))
		return -EINVAL;
	*port = v;
	return 0;
}

static void on_handshake(void *opaque, uint32_t events)
{
	struct handshake *h = opaque;
	struct vsock_core *c = h->u->core;
	uint32_t port;
	ssize_t n;
	int fd, ret;

	/* Byte by byte: whatever follows the newline belongs to the guest. */
	for (;;) {
		n = read(h->fd, h->line + h->len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			drop(h);
			return;
		}
		if (h->line[h->len] == '\n')
			break;
		if (++h->len == LINE_MAX_LEN - 1) {
			dev_debug(c->cfg.name, "unix socket client: CONNECT line too long");
			drop(h);
			return;
		}
	}
	h->line[h->len] = 0;
	if (vsock_uds_parse_connect(h->line, &port)) {
		dev_debug(c->cfg.name, "unix socket client: bad request '%s'", h->line);
		drop(h);
		return;
	}
	fd = h->fd;
	loop_remove(h->u->loop, fd);
	h->fd = -1;
	pthread_mutex_lock(c->cfg.lock);
	ret = vsock_core_connect(c, fd, port, true);
	pthread_mutex_unlock(c->cfg.lock);
	if (ret)
		dev_debug(c->cfg.name, "CONNECT %u: %s", port, strerror(-ret));
}

static void on_accept(void *opaque, uint32_t events)
{
	struct vsock_uds *u = opaque;
	struct handshake *h = NULL;
	int fd = accept4(u->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (unsigned i = 0; i < MAX_HANDSHAKES && !h; i++)
		if (u->hs[i].fd < 0)
			h = &u->hs[i];
	if (!h || loop_add(u->loop, fd, EPOLLIN, on_handshake, h)) {
		dev_debug(u->core->cfg.name, "too many unix socket clients in handshake; closing one");
		close(fd);
		return;
	}
	h->fd = fd;
	h->len = 0;
}

/* A socket file left by a dead vmm is replaced; a live one is an error. */
static int claim_path(const char *path, struct sockaddr_un *sa)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	return unlink(path) < 0 ? -errno : 0;
}

int vsock_uds_create(struct vsock_core *core, const char *path, struct vsock_uds **out,
		     struct error *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vsock_uds *u;
	int ret;

	/* Room for "_<port>" too: guest connections go to PATH_<port>. */
	if (strlen(path) + 11 >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "--vsock %s: path too long for a unix socket (at most %zu bytes)",
			       path, sizeof(sa.sun_path) - 12);
	strcpy(sa.sun_path, path);
	ret = claim_path(path, &sa);
	if (ret)
		return err_set(e, ret, "--vsock %s: %s", path, ret == -EADDRINUSE ? "another process is listening there" :
			       ret == -EEXIST ? "exists and is not a socket" : strerror(-ret));
	u = calloc(1, sizeof(*u));
	if (!u)
		return err_set(e, -ENOMEM, "--vsock %s: out of memory", path);
	u->core = core;
	u->loop = core->cfg.loop;
	u->listen_fd = -1;
	for (unsigned i = 0; i < MAX_HANDSHAKES; i++) {
		u->hs[i].u = u;
		u->hs[i].fd = -1;
	}
	u->path = strdup(path);
	u->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!u->path || u->listen_fd < 0 ||
	    bind(u->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(u->listen_fd, 64) < 0) {
		ret = err_sys(e, u->path ? -errno : -ENOMEM, "--vsock %s", path);
		goto fail;
	}
	ret = loop_add(u->loop, u->listen_fd, EPOLLIN, on_accept, u);
	if (ret) {
		err_sys(e, ret, "--vsock %s", path);
		goto fail;
	}
	*out = u;
	return 0;
fail:
	if (u->listen_fd >= 0) {
		close(u->listen_fd);
		unlink(path);
	}
	free(u->path);
	free(u);
	return ret;
}

void vsock_uds_destroy(struct vsock_uds *u)
{
	if (!u)
		return;
	for (unsigned i = 0; i < MAX_HANDSHAKES; i++)
		if (u->hs[i].fd >= 0)
			drop(&u->hs[i]);
	loop_remove(u->loop, u->listen_fd);
	close(u->listen_fd);
	unlink(u->path);
	free(u->path);
	free(u);
}
