/*
 * virtio-fs (spec 5.11): a host folder in the guest, served by virtiofsd
 * over vhost-user. vmm only runs the transport registers and the device's
 * configuration (its tag); FUSE requests go from the guest's rings to the
 * daemon and back without passing through vmm.
 */
#ifndef VMM_DEVICES_VIRTIO_FS_H
#define VMM_DEVICES_VIRTIO_FS_H

#include "devices/virtio/mmio.h"
#include "vmm/base/error.h"

#define VIRTIO_FS_TAG_MAX	36	/* the config space's tag field */

struct vm;
struct virtio_fs;

struct virtio_fs_config {
	struct virtio_mmio_config mmio;
	const char *socket_path;	/* the daemon's vhost-user socket */
	const char *tag;		/* what the guest mounts: mount -t virtiofs TAG DIR */
};

/* Connect to the daemon and attach the device. Guest RAM must be shared (memfd). */
int virtio_fs_create(struct vm *vm, const struct virtio_fs_config *cfg, struct virtio_fs **out,
		     struct error *e);
void virtio_fs_destroy(struct virtio_fs *f);
struct virtio_mmio *virtio_fs_transport(struct virtio_fs *f);

#endif
