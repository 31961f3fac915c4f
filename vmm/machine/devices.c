/*
 * The machine's devices: where each one lives (ports, MMIO windows,
 * interrupt lines, the kernel command line that tells the guest), what it
 * is built from (disk images, network backends), and in which order. The
 * devices themselves know none of this: it reaches them in their configs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/exit.h"
#include "devices/i8042.h"
#include "devices/net-backend.h"
#include "devices/net-egress.h"
#include "devices/net-lan.h"
#include "devices/net-slirp.h"
#include "devices/net-tap.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/fs.h"
#include "devices/virtiofsd.h"
#include "devices/virtio/net.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/vsock.h"
#include "guest-agent/protocol.h"
#include "vmm/base/error.h"
#include "vmm/machine/machine-internal.h"
#include "vmm/x86/layout.h"

/* ---- the base devices ---- */

int machine_add_base_devices(struct machine *m, struct error *e)
{
	struct serial_config sc = { .port = SERIAL_COM1_PORT, .irq = SERIAL_COM1_IRQ, .console = &m->console };
	struct rtc_config rc = { .port = RTC_PORT };
	struct i8042_config kc = { .data_port = I8042_DATA_PORT, .cmd_port = I8042_CMD_PORT };
	struct exit_dev_config xc = { .addr = PROTO_EXIT_DEVICE };
	int ret;

	if ((ret = serial_create(m->vm, &sc, &m->serial)))
		return err_sys(e, ret, "serial port: cannot attach");
	if ((ret = rtc_create(m->vm, &rc, &m->rtc)))
		return err_sys(e, ret, "RTC: cannot attach");
	if ((ret = i8042_create(m->vm, &kc, &m->i8042)))
		return err_sys(e, ret, "i8042: cannot attach");
	if ((ret = exit_dev_create(m->vm, &xc, &m->exit_dev)))
		return err_sys(e, ret, "exit device: cannot attach");
	return 0;
}

/* ---- virtio devices: one window and one interrupt line each, in order ---- */

static int place(struct machine *m, const char *kind, struct virtio_mmio_config *mc, struct error *e)
{
	unsigned slot = m->nvirtio;

	if (slot >= MACHINE_MAX_VIRTIO || VIRTIO_IRQ_BASE + slot >= IOAPIC_PINS)
		return err_set(e, -ENOSPC, "%s: no room for another device (at most %d)", kind, MACHINE_MAX_VIRTIO);
	*mc = (struct virtio_mmio_config){
		.base = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_WINDOW,
		.irq = VIRTIO_IRQ_BASE + slot,
		.slot = slot,
	};
	return 0;
}

/* The device is there: record its transport for snapshots and tell the guest. */
static void placed(struct machine *m, const struct virtio_mmio_config *mc, struct virtio_mmio *t)
{
	m->virtio[m->nvirtio++] = t;
	cmdline_add(&m->cmdline, "virtio_mmio.device=4K@0x%llx:%u", (unsigned long long)mc->base, mc->irq);
}

/* A disk image (images/disk) as virtio-blk's backend. */
static int disk_be_read(void *o, void *buf, size_t len, uint64_t off)
{
	return disk_read(o, buf, len, off);
}

static int disk_be_write(void *o, const void *buf, size_t len, uint64_t off)
{
	return disk_write(o, buf, len, off);
}

static int disk_be_flush(void *o)
{
	return disk_flush(o);
}

static int disk_be_discard(void *o, uint64_t off, uint64_t len)
{
	return disk_discard(o, off, len);
}

static int disk_be_write_zeroes(void *o, uint64_t off, uint64_t len, bool may_unmap)
{
	return disk_write_zeroes(o, off, len, may_unmap);
}

static const char *disk_be_error(void *o)
{
	struct disk *d = o;

	return d->err.msg;
}

static void disk_be_close(void *o)
{
	disk_close(o);
}

static const struct blk_backend_ops disk_backend_ops = {
	.read = disk_be_read,
	.write = disk_be_write,
	.flush = disk_be_flush,
	.discard = disk_be_discard,
	.write_zeroes = disk_be_write_zeroes,
	.error = disk_be_error,
	.close = disk_be_close,
};

static int add_disk(struct machine *m, const struct machine_disk_config *dc, struct error *e)
{
	struct disk_open_opts o = {
		.format = dc->format, .read_only = dc->read_only,
		.allow_unsafe_backing = dc->allow_unsafe_backing, .trusted_dirs = dc->trusted_dirs,
	};
	struct virtio_blk_config bc = { .serial = dc->serial };
	struct disk *d;
	int ret;

	if (m->ndisks == MACHINE_MAX_DISKS)
		return err_set(e, -ENOSPC, "%s: at most %d disks per VM", dc->path, MACHINE_MAX_DISKS);
	ret = place(m, dc->path, &bc.mmio, e);
	if (ret)
		return ret;
	ret = disk_open(dc->path, &o, &d, e);
	if (ret)
		return ret;
	bc.backend = (struct blk_backend){
		.ops = &disk_backend_ops, .opaque = d, .name = d->path, .size = d->size,
		.read_only = d->read_only,
	};
	ret = virtio_blk_create(m->vm, &bc, &m->disks[m->ndisks]);
	if (ret)
		return err_sys(e, ret, "%s: virtio-blk: cannot attach", dc->path);
	placed(m, &bc.mmio, virtio_blk_transport(m->disks[m->ndisks++]));
	return 0;
}

static int add_vsock(struct machine *m, const struct machine_vsock_config *c, struct error *e)
{
	struct vsock_config vc = { .guest_cid = c->guest_cid, .uds_path = c->uds_path };
	int ret = place(m, "virtio-vsock", &vc.mmio, e);

	if (ret)
		return ret;
	ret = vsock_create(m->vm, &vc, &m->vsock);
	if (ret == -EINVAL)
		return err_set(e, ret, "vsock guest CID %llu: out of range (3 to 4294967294)",
			       (unsigned long long)c->guest_cid);
	if (ret)
		return err_sys(e, ret, "virtio-vsock: cannot attach");
	placed(m, &vc.mmio, vsock_transport(m->vsock));
	return vsock_serve_uds(m->vsock, e);
}

static int add_rng(struct machine *m, struct error *e)
{
	struct virtio_rng_config rc;
	int ret = place(m, "virtio-rng", &rc.mmio, e);

	if (ret)
		return ret;
	ret = virtio_rng_create(m->vm, &rc, &m->rng);
	if (ret)
		return err_sys(e, ret, "virtio-rng: cannot attach");
	placed(m, &rc.mmio, virtio_rng_transport(m->rng));
	return 0;
}

_Static_assert(MACHINE_LAN_MAX == NET_LAN_MAX, "the machine's and the port's network limits differ");

static int lan_attach(struct net_backend *b, const struct machine_lan_config *c, struct error *e)
{
	struct net_lan_config lc = {
		.dir = c->dir, .ip = c->ip, .gateway = c->gateway,
		.mask = { htonl(c->prefix ? ~0u << (32 - c->prefix) : 0) }, .internal = c->internal,
	};

	return net_lan_attach(b, &lc, e);
}

static int add_net(struct machine *m, const struct machine_net_config *c, struct error *e)
{
	struct virtio_net_config nc;
	struct net_backend *b = NULL;
	int ret = place(m, "virtio-net", &nc.mmio, e);

	if (ret)
		return ret;
	if (c->backend == MACHINE_NET_TAP) {
		ret = net_tap_create(m->loop, c->tap, &b, e);
		if (ret)
			return ret;
	} else if (c->backend == MACHINE_NET_LAN) {
		ret = net_lan_create(m->loop, c->mac, c->resolve, c->resolve_opaque, &b, e);
		for (size_t i = 0; !ret && i < c->nlan; i++)
			ret = lan_attach(b, &c->lan[i], e);
		if (ret) {
			net_backend_destroy(b);
			return ret;
		}
	} else {
		struct egress_rule rules[EGRESS_MAX_RULES];
		size_t n = 0;

		for (; c->egress_allow && c->egress_allow[n]; n++)
			if (n == EGRESS_MAX_RULES)
				return err_set(e, -E2BIG, "at most %d --egress-allow rules", EGRESS_MAX_RULES);
			else if ((ret = egress_rule_parse(c->egress_allow[n], &rules[n], e)))
				return ret;
		ret = net_slirp_create(m->loop, NULL, c->host_loopback, rules, n, &b);
		if (ret)
			return err_sys(e, ret, "user-mode networking");
	}
	memcpy(nc.mac, c->mac, sizeof(nc.mac));
	nc.backend = b;
	ret = virtio_net_create(m->vm, &nc, &m->net);	/* owns b from here on */
	if (ret)
		return err_sys(e, ret, "virtio-net");
	m->net_backend = b;
	placed(m, &nc.mmio, virtio_net_transport(m->net));
	return 0;
}

/* A shared folder: its daemon first, then the device that connects to it. */
static int add_share(struct machine *m, const struct machine_share_config *c, struct error *e)
{
	struct virtiofsd_config dc = {
		.binary = c->virtiofsd, .shared_dir = c->host_dir, .socket_path = c->socket_path,
		.read_only = c->read_only, .log_path = c->log_path,
	};
	struct virtio_fs_config fc = { .socket_path = c->socket_path, .tag = c->tag };
	unsigned i = m->nshares;
	int ret;

	if (i == MACHINE_MAX_SHARES)
		return err_set(e, -ENOSPC, "%s: at most %d shared folders per VM", c->host_dir,
			       MACHINE_MAX_SHARES);
	if ((ret = place(m, "virtio-fs", &fc.mmio, e)))
		return ret;
	/* asked once per binary, not once per share */
	if (!m->virtiofsd_probed || strcmp(m->virtiofsd_probed, c->virtiofsd)) {
		m->virtiofsd_flavour = virtiofsd_probe(c->virtiofsd);
		m->virtiofsd_probed = c->virtiofsd;
	}
	dc.flavour = m->virtiofsd_flavour;
	if ((ret = virtiofsd_start(&dc, &m->share_daemons[i], e)))
		return ret;
	m->nshares++;
	if ((ret = virtio_fs_create(m->vm, &fc, &m->shares[i], e)))
		return err_wrap(e, ret, "shared folder %s", c->host_dir);
	placed(m, &fc.mmio, virtio_fs_transport(m->shares[i]));
	return 0;
}

int machine_add_devices(struct machine *m, struct error *e)
{
	const struct machine_config *c = &m->cfg;
	int ret = 0;

	for (unsigned i = 0; !ret && i < c->ndisks; i++)
		ret = add_disk(m, &c->disks[i], e);
	if (!ret && c->vsock)
		ret = add_vsock(m, c->vsock, e);
	if (!ret && c->rng)
		ret = add_rng(m, e);
	if (!ret && c->net)
		ret = add_net(m, c->net, e);
	for (unsigned i = 0; !ret && i < c->nshares; i++)
		ret = add_share(m, &c->shares[i], e);
	return ret;
}

void machine_remove_devices(struct machine *m)
{
	/* vCPUs are stopped and the loop is not running: disks are flushed and closed. */
	for (unsigned i = 0; i < m->ndisks; i++)
		virtio_blk_destroy(m->disks[i]);
	m->ndisks = 0;
	vsock_destroy(m->vsock);
	virtio_rng_destroy(m->rng);
	virtio_net_destroy(m->net);	/* and its backend: published ports are released */
	for (unsigned i = 0; i < m->nshares; i++) {
		virtio_fs_destroy(m->shares[i]);
		virtiofsd_stop(m->share_daemons[i]);
		m->shares[i] = NULL;
		m->share_daemons[i] = NULL;
	}
	m->nshares = 0;
	m->vsock = NULL;
	m->rng = NULL;
	m->net = NULL;
	m->net_backend = NULL;
	m->nvirtio = 0;
	serial_destroy(m->serial);
	rtc_destroy(m->rtc);
	i8042_destroy(m->i8042);
	exit_dev_destroy(m->exit_dev);
	m->serial = NULL;
	m->rtc = NULL;
	m->i8042 = NULL;
	m->exit_dev = NULL;
}

/* ---- what the engine asks of the devices ---- */

int machine_vsock_listen(struct machine *m, uint32_t port, machine_accept_fn fn, void *opaque)
{
	return m->vsock ? vsock_listen(m->vsock, port, fn, opaque) : -ENODEV;
}

void machine_vsock_unlisten(struct machine *m, uint32_t port)
{
	if (m->vsock)
		vsock_unlisten(m->vsock, port);
}

void machine_vsock_reset(struct machine *m)
{
	if (m->vsock)
		vsock_transport_reset(m->vsock);
}

void machine_io_stats(struct machine *m, struct machine_io_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < m->ndisks; i++) {
		uint64_t r, w;

		virtio_blk_stats(m->disks[i], &r, &w);
		out->blk_read += r;
		out->blk_write += w;
	}
	if (m->net) {
		struct net_stats ns;

		virtio_net_stats(m->net, &ns);
		out->net_rx = ns.rx_bytes;
		out->net_tx = ns.tx_bytes;
	}
}

int machine_net_forward(struct machine *m, bool udp, const char *host_ip, uint16_t host_port,
			uint16_t guest_port)
{
	struct in_addr addr = { .s_addr = htonl(INADDR_ANY) };

	if (!m->net_backend || !m->cfg.net || m->cfg.net->backend == MACHINE_NET_TAP)
		return -ENODEV;
	if (host_ip && *host_ip && inet_pton(AF_INET, host_ip, &addr) != 1)
		return -EINVAL;
	if (m->cfg.net->backend == MACHINE_NET_LAN)
		return net_lan_forward(m->net_backend, udp, addr, host_port, guest_port);
	return net_slirp_forward(m->net_backend, udp, addr, host_port, guest_port);
}

/* Is the VM's interface a port on container networks? */
static bool on_lans(const struct machine *m)
{
	return m->net_backend && m->cfg.net && m->cfg.net->backend == MACHINE_NET_LAN;
}

int machine_net_attach(struct machine *m, const struct machine_lan_config *c, struct error *e)
{
	if (!on_lans(m))
		return err_set(e, -ENODEV, "the VM's network interface is not on container networks");
	return lan_attach(m->net_backend, c, e);
}

int machine_net_detach(struct machine *m, const char *dir)
{
	return on_lans(m) ? net_lan_detach(m->net_backend, dir) : -ENODEV;
}

void machine_net_info(const struct machine_net_config *cfg, struct machine_net_info *out)
{
	memset(out, 0, sizeof(*out));
	if (cfg && cfg->backend == MACHINE_NET_SLIRP) {
		out->ip = SLIRP_GUEST;
		out->cidr = SLIRP_GUEST_CIDR;
		out->gateway = SLIRP_GATEWAY;
		out->dns = SLIRP_DNS;
	}
}

int machine_find_virtiofsd(const char *override, char *path, size_t len, struct error *e)
{
	return virtiofsd_find(override, path, len, e);
}

const char *machine_virtiofsd_kind(const char *binary)
{
	return virtiofsd_flavour_name(virtiofsd_probe(binary));
}

int machine_net_check_tap(const char *name, struct error *e)
{
	return net_tap_check(name, e);
}

int machine_net_check_egress(const char *rule, struct error *e)
{
	struct egress_rule r;

	return egress_rule_parse(rule, &r, e);
}
