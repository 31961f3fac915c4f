#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/net-backend.h"
#include "devices/net-tap.h"
#include "devices/virtio/net-core.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"

#define READ_BATCH	64	/* frames per wakeup before yielding to the loop */

struct net_tap {
	struct net_backend b;	/* first: the device sees only this */
	struct event_loop *loop;
	int fd;
	bool paused;		/* the device holds too much: stop reading */
	bool want_out;		/* a write hit EAGAIN: tell the device when there is room */
	uint8_t buf[NET_MAX_FRAME];
	char name[IFNAMSIZ];
};

/* The tun flags of an existing interface (sysfs), or -errno. */
static long tun_flags(const char *name)
{
	char path[96], text[32];
	long flags;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	text[n] = '\0';
	flags = strtol(text, NULL, 0);
	return flags < 0 ? -EIO : flags;
}

static int tap_open(const char *name, uint16_t *mtu, struct error *e)
{
	struct ifreq ifr = { 0 };
	long flags;
	int fd, sock;

	if (!*name || strlen(name) >= IFNAMSIZ || strchr(name, '/')) {
		return err_set(e, -EINVAL, "--network tap:%s: not a network interface name (1 to %d characters)",
			       name, IFNAMSIZ - 1);
	}
	if (!if_nametoindex(name)) {
		return err_set(e, -ENODEV, "tap device %s does not exist (create it first: "
			       "ip tuntap add mode tap name %s user $(id -un); ip link set %s up)", name, name, name);
	}
	flags = tun_flags(name);
	if (flags < 0) {
		return err_set(e, -EINVAL, "network interface %s is not a tap device (vmm attaches only to "
			       "existing tap devices: ip tuntap add mode tap name NAME)", name);
	}
	if (!(flags & IFF_TAP)) {
		return err_set(e, -EINVAL, "network interface %s is a tun (IP) device; vmm needs a tap "
			       "(Ethernet) device: ip tuntap add mode tap name NAME", name);
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int err = errno;

		return err_set(e, -err, "/dev/net/tun: %s%s", strerror(err),
			       err == EACCES ? " (tap networking needs access to it)" : "");
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (flags & IFF_MULTI_QUEUE);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = errno;

		close(fd);
		if (err == EPERM)
			return err_set(e, -err, "tap device %s is not ours to open: it belongs to another user "
				       "(recreate it with: ip tuntap add mode tap name %s user $(id -un))", name, name);
		if (err == EBUSY)
			return err_set(e, -err, "tap device %s is in use by another process", name);
		return err_sys(e, -err, "tap device %s: cannot attach", name);
	}
	*mtu = 1500;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock >= 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		if (ioctl(sock, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68 && ifr.ifr_mtu <= 65535)
			*mtu = ifr.ifr_mtu;
		close(sock);
	}
	return fd;
}

int net_tap_check(const char *name, struct error *e)
{
	uint16_t mtu;
	int fd = tap_open(name, &mtu, e);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void update_events(struct net_tap *t)
{
	uint32_t ev = (t->paused ? 0 : EPOLLIN) | (t->want_out ? EPOLLOUT : 0);

	if (loop_modify(t->loop, t->fd, ev))
		pr_debug("tap %s: cannot change its events", t->name);
}

static void on_tap(void *opaque, uint32_t events)
{
	struct net_tap *t = opaque;

	if (events & EPOLLOUT && t->want_out) {
		t->want_out = false;
		update_events(t);
		if (t->b.peer.writable)
			t->b.peer.writable(t->b.peer.opaque);
	}
	for (int i = 0; i < READ_BATCH && !t->paused && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)); i++) {
		ssize_t n = read(t->fd, t->buf, sizeof(t->buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			pr_debug("tap %s: read: %s", t->name, strerror(errno));
		if (n <= 0)
			break;
		net_backend_deliver(&t->b, t->buf, n);
	}
}

static int tap_send(struct net_backend *b, const void *frame, size_t len)
{
	struct net_tap *t = (struct net_tap *)b;
	ssize_t n = write(t->fd, frame, len);

	if (n >= 0)
		return 0;
	if (errno == EAGAIN) {
		if (!t->want_out) {
			t->want_out = true;
			update_events(t);
		}
		return -EAGAIN;
	}
	/* The interface is down, or the frame is too big for it: dropped, as a wire would. */
	pr_debug("tap %s: write: %s", t->name, strerror(errno));
	return -errno;
}

static void tap_pause(struct net_backend *b, bool paused)
{
	struct net_tap *t = (struct net_tap *)b;

	t->paused = paused;
	update_events(t);
}

static void tap_destroy(struct net_backend *b)
{
	struct net_tap *t = (struct net_tap *)b;

	loop_remove(t->loop, t->fd);
	close(t->fd);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.pause_rx = tap_pause,
	.destroy = tap_destroy,
};

int net_tap_create(struct event_loop *loop, const char *name, struct net_backend **out,
		   struct error *e)
{
	struct net_tap *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return err_set(e, -ENOMEM, "tap device %s: out of memory", name);
	t->fd = tap_open(name, &t->b.mtu, e);
	if (t->fd < 0) {
		ret = t->fd;
		free(t);
		return ret;
	}
	t->b.ops = &tap_ops;
	t->b.name = "tap";
	t->loop = loop;
	snprintf(t->name, sizeof(t->name), "%s", name);
	ret = loop_add(loop, t->fd, EPOLLIN, on_tap, t);
	if (ret) {
		err_sys(e, ret, "tap device %s", name);
		close(t->fd);
		free(t);
		return ret;
	}
	*out = &t->b;
	return 0;
}
