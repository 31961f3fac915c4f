/* vhost-user frontend (see vhost-user.h and the vhost-user protocol in QEMU's docs). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/vhost-user.h"

#define VHOST_USER_CONNECT_TRIES 3000	/* 10 ms apart: 30 s for a daemon to listen */
#include "vmm/base/log.h"
#include "vmm/base/util.h"

enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_SET_VRING_ENABLE = 18,
};

#define VU_VERSION		0x1
#define VU_FLAG_REPLY		(1u << 2)
#define VU_FLAG_NEED_REPLY	(1u << 3)
#define VU_PROTOCOL_F_REPLY_ACK	3
#define VU_VRING_NOFD		(1ULL << 8)

struct vu_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size;		/* of the payload that follows */
} __attribute__((packed));

struct vu_state {
	uint32_t index;
	uint32_t num;
};

struct vu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
};

struct vu_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

struct vu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vu_region regions[VHOST_USER_MAX_REGIONS];
};

union vu_payload {
	uint64_t u64;
	struct vu_state state;
	struct vu_addr addr;
	struct vu_mem mem;
};

struct vhost_user {
	int fd;
	char name[32];
	bool reply_ack;		/* the daemon acknowledges requests that have no reply */
	bool protocol_features;	/* rings start disabled until SET_VRING_ENABLE */
};

static const char *request_name(uint32_t r)
{
	static const char *const names[] = {
		[VU_GET_FEATURES] = "GET_FEATURES", [VU_SET_FEATURES] = "SET_FEATURES",
		[VU_SET_OWNER] = "SET_OWNER", [VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VU_SET_VRING_NUM] = "SET_VRING_NUM", [VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VU_SET_VRING_BASE] = "SET_VRING_BASE", [VU_GET_VRING_BASE] = "GET_VRING_BASE",
		[VU_SET_VRING_KICK] = "SET_VRING_KICK", [VU_SET_VRING_CALL] = "SET_VRING_CALL",
		[VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	};

	return r < ARRAY_SIZE(names) && names[r] ? names[r] : "request";
}

/* One message, with up to VHOST_USER_MAX_REGIONS fds beside it. */
static int send_msg(struct vhost_user *vu, uint32_t req, uint32_t flags, const void *payload,
		    uint32_t size, const int *fds, unsigned nfds, struct error *e)
{
	struct vu_header h = { .request = req, .flags = VU_VERSION | flags, .size = size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, size } };
	char control[CMSG_SPACE(VHOST_USER_MAX_REGIONS * sizeof(int))] = { 0 };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *c;

		m.msg_control = control;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(vu->fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_sys(e, -errno, "%s: vhost-user %s", vu->name, request_name(req));
	if ((size_t)n != sizeof(h) + size)
		return err_set(e, -EIO, "%s: vhost-user %s: short write", vu->name, request_name(req));
	return 0;
}

/* Read exactly len bytes within the reply timeout. */
static int recv_full(struct vhost_user *vu, void *buf, size_t len, const char *what, struct error *e)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = vu->fd, .events = POLLIN };
		int r = poll(&p, 1, VHOST_USER_TIMEOUT_MS);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return err_set(e, -ETIMEDOUT, "%s: vhost-user %s: no reply from the daemon in %d s",
				       vu->name, what, VHOST_USER_TIMEOUT_MS / 1000);
		n = recv(vu->fd, (char *)buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, -errno, "%s: vhost-user %s", vu->name, what);
		if (n == 0)
			return err_set(e, -EPIPE, "%s: vhost-user %s: the daemon closed the connection",
				       vu->name, what);
		got += n;
	}
	return 0;
}

/* The reply to req: a u64 (features, an ack) or a vring state. */
static int recv_reply(struct vhost_user *vu, uint32_t req, void *payload, uint32_t size,
		      struct error *e)
{
	struct vu_header h;
	int ret = recv_full(vu, &h, sizeof(h), request_name(req), e);

	if (ret)
		return ret;
	if (h.request != req || !(h.flags & VU_FLAG_REPLY) || (h.flags & 3) != VU_VERSION ||
	    h.size != size)
		return err_set(e, -EPROTO, "%s: vhost-user %s: unexpected reply (request %u, flags %#x, "
			       "%u bytes)", vu->name, request_name(req), h.request, h.flags, h.size);
	return recv_full(vu, payload, size, request_name(req), e);
}

/* A request without a reply of its own; acknowledged when the daemon offers REPLY_ACK. */
static int request(struct vhost_user *vu, uint32_t req, const void *payload, uint32_t size,
		   const int *fds, unsigned nfds, struct error *e)
{
	uint64_t ack;
	int ret = send_msg(vu, req, vu->reply_ack ? VU_FLAG_NEED_REPLY : 0, payload, size, fds, nfds, e);

	if (ret || !vu->reply_ack)
		return ret;
	if ((ret = recv_reply(vu, req, &ack, sizeof(ack), e)))
		return ret;
	if (ack)
		return err_set(e, -EIO, "%s: vhost-user %s: the daemon refused it", vu->name,
			       request_name(req));
	return 0;
}

static int get_u64(struct vhost_user *vu, uint32_t req, uint64_t *v, struct error *e)
{
	int ret = send_msg(vu, req, 0, NULL, 0, NULL, 0, e);

	return ret ? ret : recv_reply(vu, req, v, sizeof(*v), e);
}

/*
 * Connect to the daemon's socket. A daemon just started may have bound it but not yet
 * listen()ed (connect: ECONNREFUSED): try again until it listens, within a generous bound.
 */
static int connect_daemon(const struct sockaddr_un *sa)
{
	for (int tries = 0;; tries++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

		if (fd < 0)
			return -errno;
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return fd;
		err = errno;
		close(fd);
		if (err != ECONNREFUSED || tries >= VHOST_USER_CONNECT_TRIES)
			return -err;
		poll(NULL, 0, 10);
	}
}

int vhost_user_connect(const char *socket_path, const char *name, struct vhost_user **out,
		       uint64_t *features, struct error *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vhost_user *vu;
	uint64_t proto;
	int ret;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "%s: socket path %s is too long", name, socket_path);
	vu = calloc(1, sizeof(*vu));
	if (!vu)
		return err_set(e, -ENOMEM, "out of memory");
	vu->fd = -1;
	snprintf(vu->name, sizeof(vu->name), "%s", name);
	strcpy(sa.sun_path, socket_path);
	vu->fd = connect_daemon(&sa);
	if (vu->fd < 0) {
		ret = err_sys(e, vu->fd, "%s: connect to the vhost-user daemon at %s", name, socket_path);
		goto fail;
	}
	/* Ownership first, as QEMU does: the daemon serves one frontend. */
	if ((ret = send_msg(vu, VU_SET_OWNER, 0, NULL, 0, NULL, 0, e)) ||
	    (ret = get_u64(vu, VU_GET_FEATURES, features, e)))
		goto fail;
	if (*features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)) {
		if ((ret = get_u64(vu, VU_GET_PROTOCOL_FEATURES, &proto, e)))
			goto fail;
		proto &= 1ULL << VU_PROTOCOL_F_REPLY_ACK;
		if ((ret = send_msg(vu, VU_SET_PROTOCOL_FEATURES, 0, &proto, sizeof(proto), NULL, 0, e)))
			goto fail;
		vu->reply_ack = proto != 0;
		vu->protocol_features = true;
	}
	*out = vu;
	return 0;
fail:
	vhost_user_close(vu);
	return ret;
}

int vhost_user_set_features(struct vhost_user *vu, uint64_t features, struct error *e)
{
	/* The protocol-features bit stays set once negotiated (the spec asks the frontend to). */
	if (vu->protocol_features)
		features |= 1ULL << VHOST_USER_F_PROTOCOL_FEATURES;
	return request(vu, VU_SET_FEATURES, &features, sizeof(features), NULL, 0, e);
}

int vhost_user_set_mem_table(struct vhost_user *vu, const struct vhost_user_region *r, unsigned n,
			     struct error *e)
{
	struct vu_mem m = { .nregions = n };
	int fds[VHOST_USER_MAX_REGIONS];

	if (n == 0 || n > VHOST_USER_MAX_REGIONS)
		return err_set(e, -EINVAL, "%s: %u memory regions (1 to %d)", vu->name, n,
			       VHOST_USER_MAX_REGIONS);
	for (unsigned i = 0; i < n; i++) {
		if (r[i].fd < 0)
			return err_set(e, -EINVAL, "%s: guest RAM is not backed by a file descriptor "
				       "(vhost-user needs shared memory)", vu->name);
		m.regions[i] = (struct vu_region){
			.gpa = r[i].gpa, .size = r[i].size, .uaddr = (uintptr_t)r[i].hva,
			.mmap_offset = r[i].fd_offset,
		};
		fds[i] = r[i].fd;
	}
	/* The payload carries only the regions in use. */
	return request(vu, VU_SET_MEM_TABLE, &m, 8 + n * sizeof(m.regions[0]), fds, n, e);
}

static int vring_fd(struct vhost_user *vu, uint32_t req, unsigned index, int fd, struct error *e)
{
	uint64_t v = index | (fd < 0 ? VU_VRING_NOFD : 0);

	return request(vu, req, &v, sizeof(v), fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1, e);
}

int vhost_user_start_vring(struct vhost_user *vu, const struct vhost_user_vring *vr,
			   struct error *e)
{
	struct vu_state num = { .index = vr->index, .num = vr->num };
	struct vu_state base = { .index = vr->index, .num = vr->base };
	struct vu_state enable = { .index = vr->index, .num = 1 };
	struct vu_addr addr = {
		.index = vr->index, .desc = (uintptr_t)vr->desc, .used = (uintptr_t)vr->used,
		.avail = (uintptr_t)vr->avail,
	};
	int ret;

	if ((ret = request(vu, VU_SET_VRING_NUM, &num, sizeof(num), NULL, 0, e)) ||
	    (ret = request(vu, VU_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0, e)) ||
	    (ret = request(vu, VU_SET_VRING_BASE, &base, sizeof(base), NULL, 0, e)) ||
	    (ret = vring_fd(vu, VU_SET_VRING_CALL, vr->index, vr->call_fd, e)) ||
	    (ret = vring_fd(vu, VU_SET_VRING_KICK, vr->index, vr->kick_fd, e)))
		return ret;
	if (vu->protocol_features)
		ret = request(vu, VU_SET_VRING_ENABLE, &enable, sizeof(enable), NULL, 0, e);
	return ret;
}

int vhost_user_stop_vring(struct vhost_user *vu, unsigned index, uint16_t *base, struct error *e)
{
	struct vu_state st = { .index = index };
	int ret = send_msg(vu, VU_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0, e);

	if (!ret)
		ret = recv_reply(vu, VU_GET_VRING_BASE, &st, sizeof(st), e);
	if (!ret && st.index != index)
		ret = err_set(e, -EPROTO, "%s: vhost-user GET_VRING_BASE: reply for ring %u, not %u",
			      vu->name, st.index, index);
	if (!ret)
		*base = st.num;
	return ret;
}

void vhost_user_close(struct vhost_user *vu)
{
	if (!vu)
		return;
	if (vu->fd >= 0)
		close(vu->fd);
	free(vu);
}
