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

struct cmdline;
struct event_loop;
struct vm;
struct virtio_mmio;

#define VIRTIO_MAX_QUEUES	8

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

/* What a device plugs into the transport. Callbacks run with the device lock held. */
struct virtio_device_ops {
	const char *name;
	uint32_t device_id;
	uint64_t features;		/* offered, besides VERSION_1 */
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

/*
 * Create the transport for one device: take the next window and IRQ, hook
 * ioeventfds/irqfd, and add `virtio_mmio.device=...` to the command line.
 */
int virtio_mmio_create(struct vm *vm, struct cmdline *cmdline,
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
int virtio_mmio_restore(struct virtio_mmio *t, const struct snapreader *r);

/* Running: DRIVER_OK set and not waiting for a reset. */
bool virtio_mmio_active(const struct virtio_mmio *t);

#endif
