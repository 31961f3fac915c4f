/*
 * virtio-fs over vhost-user (see fs.h). When the driver is ready, the daemon
 * gets the guest's RAM and each ring; on a reset it gives the rings back.
 * Failures there are the guest's problem only: the device goes to
 * NEEDS_RESET with a warning, vmm goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vhost-user.h"
#include "devices/virtio/fs.h"
#include "vmm/base/log.h"
#include "vmm/vm.h"

#define FS_QUEUES	2	/* hiprio and one request queue */
#define FS_QUEUE_SIZE	128

struct fs_config_space {
	char tag[VIRTIO_FS_TAG_MAX];
	uint32_t num_request_queues;	/* little-endian, as the host */
} __attribute__((packed));

struct virtio_fs {
	struct virtio_mmio *t;
	struct vhost_user *vu;
	uint64_t daemon_features;
	struct fs_config_space config;
	bool started[FS_QUEUES];
};

/* What the guest may use: what the daemon's rings understand. */
static uint64_t fs_features(void *dev)
{
	struct virtio_fs *f = dev;

	return f->daemon_features & ((1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX));
}

static void fs_config_read(void *dev, uint32_t off, void *data, unsigned len)
{
	struct virtio_fs *f = dev;

	memcpy(data, (const uint8_t *)&f->config + off, len);
}

static int hand_over(struct virtio_fs *f, struct error *e)
{
	const struct guest_mem *mem = &f->t->vm->mem;
	struct vhost_user_region r[GUEST_MEM_MAX_REGIONS];
	int ret;

	if (!mem->shared)
		return err_set(e, -ENOTSUP, "guest RAM is not shared");
	for (unsigned i = 0; i < mem->nregions; i++)
		r[i] = (struct vhost_user_region){
			.gpa = mem->regions[i].gpa, .size = mem->regions[i].size,
			.hva = mem->regions[i].hva, .fd = mem->fd, .fd_offset = mem->regions[i].fd_offset,
		};
	if ((ret = vhost_user_set_features(f->vu, f->t->driver_features, e)) ||
	    (ret = vhost_user_set_mem_table(f->vu, r, mem->nregions, e)))
		return ret;
	for (unsigned q = 0; q < FS_QUEUES; q++) {
		struct virtq *vq = &f->t->queues[q];
		struct vhost_user_vring vr = {
			.index = q, .num = vq->num, .desc = vq->desc, .avail = (void *)vq->avail,
			.used = (void *)vq->used, .base = vq->last_avail,
			.kick_fd = virtio_mmio_kick_fd(f->t, q), .call_fd = virtio_mmio_irq_fd(f->t),
		};

		if (!vq->ready)
			continue;
		if ((ret = vhost_user_start_vring(f->vu, &vr, e)))
			return ret;
		f->started[q] = true;
	}
	return 0;
}

/* DRIVER_OK (vCPU thread, transport lock held): the daemon takes the rings. */
static void fs_activate(void *dev)
{
	struct virtio_fs *f = dev;
	struct error e = { 0 };

	if (hand_over(f, &e)) {
		dev_warn(f->t->name, "%s", e.msg);
		virtio_mmio_needs_reset(f->t, "the vhost-user daemon did not take the rings");
	}
}

/* Reset: the daemon stops; where it stopped is where a new driver starts over anyway. */
static void fs_reset(void *dev)
{
	struct virtio_fs *f = dev;
	struct error e = { 0 };
	uint16_t base;

	for (unsigned q = 0; q < FS_QUEUES; q++) {
		if (f->started[q] && vhost_user_stop_vring(f->vu, q, &base, &e))
			dev_warn(f->t->name, "%s", e.msg);
		f->started[q] = false;
	}
}

static const struct virtio_device_ops fs_ops = {
	.name = "virtio-fs",
	.device_id = VIRTIO_ID_FS,
	.instance_features = fs_features,
	.nqueues = FS_QUEUES,
	.queue_size = FS_QUEUE_SIZE,
	.config_size = sizeof(struct fs_config_space),
	.config_read = fs_config_read,
	.activate = fs_activate,
	.reset = fs_reset,
	.vhost_user = true,
};

int virtio_fs_create(struct vm *vm, const struct virtio_fs_config *cfg, struct virtio_fs **out,
		     struct error *e)
{
	struct virtio_fs *f;
	int ret;

	if (!cfg->tag || !*cfg->tag || strlen(cfg->tag) > VIRTIO_FS_TAG_MAX)
		return err_set(e, -EINVAL, "virtio-fs tag '%s': 1 to %d bytes", cfg->tag ? cfg->tag : "",
			       VIRTIO_FS_TAG_MAX);
	if (!vm->mem.shared)
		return err_set(e, -EINVAL, "virtio-fs needs guest RAM shared with its daemon");
	f = calloc(1, sizeof(*f));
	if (!f)
		return err_set(e, -ENOMEM, "out of memory");
	memcpy(f->config.tag, cfg->tag, strlen(cfg->tag));	/* NUL-padded, not terminated */
	f->config.num_request_queues = FS_QUEUES - 1;
	ret = vhost_user_connect(cfg->socket_path, cfg->mmio.name ? cfg->mmio.name : "virtio-fs", &f->vu,
				 &f->daemon_features, e);
	if (!ret && !(f->daemon_features & (1ULL << VIRTIO_F_VERSION_1)))
		ret = err_set(e, -ENOTSUP, "virtio-fs: the daemon does not offer VIRTIO_F_VERSION_1");
	if (!ret && (ret = virtio_mmio_create(vm, &cfg->mmio, &fs_ops, f, &f->t)))
		err_sys(e, ret, "virtio-fs: cannot attach");
	if (ret) {
		vhost_user_close(f->vu);
		free(f);
		return ret;
	}
	*out = f;
	return 0;
}

void virtio_fs_destroy(struct virtio_fs *f)
{
	if (!f)
		return;
	virtio_mmio_destroy(f->t);
	vhost_user_close(f->vu);
	free(f);
}

struct virtio_mmio *virtio_fs_transport(struct virtio_fs *f)
{
	return f->t;
}
