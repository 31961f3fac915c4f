/*
 * The frontend side of the vhost-user protocol: a virtio device whose queues
 * a separate daemon serves (virtiofsd for virtio-fs; later blk or net
 * backends). Over a unix socket we negotiate features, hand the daemon the
 * guest's RAM as file descriptors, and point it at each ring; its kicks and
 * interrupts then travel through eventfds that KVM serves directly
 * (ioeventfd, irqfd), with no vmm thread in the data path.
 *
 * The daemon is a separate, sandboxed process that a hostile guest talks to,
 * so its replies are bounded and checked, and every wait has a timeout.
 */
#ifndef VMM_DEVICES_VHOST_USER_H
#define VMM_DEVICES_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/error.h"

#define VHOST_USER_MAX_REGIONS	8
#define VHOST_USER_TIMEOUT_MS	10000	/* for each reply */

/* Feature bit of the vhost-user protocol itself (in GET_FEATURES). */
#define VHOST_USER_F_PROTOCOL_FEATURES	30

struct vhost_user;

/* One region of guest RAM the daemon maps: fd + offset backs [gpa, gpa + size) at hva here. */
struct vhost_user_region {
	uint64_t gpa;
	uint64_t size;
	void *hva;
	int fd;
	uint64_t fd_offset;
};

/* One ring, as the driver set it up: host addresses of its three parts. */
struct vhost_user_vring {
	unsigned index;
	uint16_t num;
	void *desc, *avail, *used;
	uint16_t base;		/* where the daemon starts in the avail ring */
	int kick_fd;		/* the daemon waits on it (an ioeventfd the guest writes) */
	int call_fd;		/* the daemon writes it (an irqfd) */
};

/*
 * Connect to the daemon's socket, take ownership (SET_OWNER) and read its
 * features (*features: what it offers). name tags messages. 0 or -errno, e set.
 */
int vhost_user_connect(const char *socket_path, const char *name, struct vhost_user **out,
		       uint64_t *features, struct error *e);
/* The features the device uses (a subset of those offered, VERSION_1 included). */
int vhost_user_set_features(struct vhost_user *vu, uint64_t features, struct error *e);
int vhost_user_set_mem_table(struct vhost_user *vu, const struct vhost_user_region *r, unsigned n,
			     struct error *e);
/* Hand the daemon a ring and start it. */
int vhost_user_start_vring(struct vhost_user *vu, const struct vhost_user_vring *vr,
			   struct error *e);
/* Stop a ring; *base gets where the daemon stopped (the next avail index it would read). */
int vhost_user_stop_vring(struct vhost_user *vu, unsigned index, uint16_t *base, struct error *e);
void vhost_user_close(struct vhost_user *vu);

#endif
