/*
 * virtio-mmio transport, virtio 1.x "modern" registers (spec 4.2.2). One 4 KiB
 * window and one interrupt line per device. Guest queue notifications arrive
 * as ioeventfds on the event loop; interrupts leave through an irqfd; vCPU
 * threads only handle register accesses.
 */
#ifndef VMM_DEVICES_VIRTIO_MMIO_H
#define VMM_DEVICES_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/queue.h"

struct event_loop;
struct vm;
struct virtio_mmio;

#define VIRTIO_MAX_QUEUES	8
#define VIRTIO_MMIO_WINDOW	0x1000	/* register window per device */

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* Feature bits shared by all devices */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32

/* Device IDs */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_RNG		4
#define VIRTIO_ID_VSOCK		19
#define VIRTIO_ID_FS		26

/* What a device plugs into the transport. Callbacks run with the device lock held. */
struct virtio_device_ops {
	const char *name;
	uint32_t device_id;
	uint64_t features;		/* offered, besides VERSION_1 */
	/* This instance's extra features (a read-only disk's RO bit); NULL: none. */
	uint64_t (*instance_features)(void *dev);
	unsigned nqueues;
	uint16_t queue_size;		/* maximum entries per queue */
	uint32_t config_size;
	/* Device configuration space, already bounds-checked against config_size. */
	void (*config_read)(void *dev, uint32_t off, void *data, unsigned len);
	void (*config_write)(void *dev, uint32_t off, const void *data, unsigned len);
	/* The guest kicked queue q (event loop thread). */
	void (*queue_notify)(void *dev, unsigned q);
	/* The driver is ready (DRIVER_OK), or the device was reset. */
	void (*activate)(void *dev);
	void (*reset)(void *dev);
	/*
	 * A vhost-user daemon serves the queues: kicks go to it through the
	 * ioeventfds (virtio_mmio_kick_fd) and it interrupts through the irqfd
	 * (virtio_mmio_irq_fd), with no vmm thread in between.
	 */
	bool vhost_user;
};

struct virtio_mmio {
	struct vm *vm;
	const struct virtio_device_ops *ops;
	void *dev;
	char name[32];		/* e.g. "virtio-blk0", for log lines */
	uint64_t base;
	unsigned irq;
	unsigned slot;
	pthread_mutex_t lock;
	uint32_t status;
	uint32_t device_features_sel, driver_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	uint32_t interrupt_status;
	uint32_t config_generation;
	bool warned;
	struct virtq queues[VIRTIO_MAX_QUEUES];
	int kick_fd[VIRTIO_MAX_QUEUES];
	int irq_fd;
};

/* Where a device's transport lives, as the machine lays devices out. */
struct virtio_mmio_config {
	uint64_t base;		/* guest-physical address of its VIRTIO_MMIO_WINDOW */
	unsigned irq;		/* its interrupt line (GSI) */
	unsigned slot;		/* its place in the machine: names its snapshot record */
	const char *name;	/* for log lines ("virtio-blk0"); NULL: ops->name */
};

/*
 * Create the transport for one device: register its window, hook
 * ioeventfds/irqfd. The guest learns of it from the kernel command line
 * (virtio_mmio.device=4K@BASE:IRQ), which the machine writes. 0 or -errno.
 */
int virtio_mmio_create(struct vm *vm, const struct virtio_mmio_config *cfg,
		       const struct virtio_device_ops *ops, void *dev, struct virtio_mmio **out);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* Interrupt the guest for used buffers on queue q, if it wants one (lock held). */
void virtio_mmio_signal(struct virtio_mmio *t, unsigned q);
/* The configuration space changed (lock held). */
void virtio_mmio_config_changed(struct virtio_mmio *t);
/* The guest broke the protocol: stop the device until the driver resets it (lock held). */
void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why);
bool virtio_mmio_has_feature(const struct virtio_mmio *t, unsigned bit);
struct snapbuf;
struct snapreader;
/* Snapshot: registers and queues (record "virtio<slot>"). Device lock taken inside. */
void virtio_mmio_save(struct virtio_mmio *t, struct snapbuf *b);
/* -EINVAL: missing or bad records; -ENODEV: the saved device is another kind. */
int virtio_mmio_restore(struct virtio_mmio *t, const struct snapreader *r);

/* The eventfd the guest's notifications of queue q land on, and the irqfd (-1: none). */
int virtio_mmio_kick_fd(const struct virtio_mmio *t, unsigned q);
int virtio_mmio_irq_fd(const struct virtio_mmio *t);

/* Running: DRIVER_OK set and not waiting for a reset. */
bool virtio_mmio_active(const struct virtio_mmio *t);

#endif
