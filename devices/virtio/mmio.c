#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/virtio/mmio.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"
#include "vmm/snapfile.h"
#include "vmm/vm.h"

/* Register offsets (virtio spec 4.2.2) */
#define REG_MAGIC		0x000
#define REG_VERSION		0x004
#define REG_DEVICE_ID		0x008
#define REG_VENDOR_ID		0x00c
#define REG_DEVICE_FEATURES	0x010
#define REG_DEVICE_FEATURES_SEL	0x014
#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INTERRUPT_STATUS	0x060
#define REG_INTERRUPT_ACK	0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4
#define REG_CONFIG_GENERATION	0x0fc
#define REG_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_VENDOR_ID	0x554d4551	/* any value; QEMU's is common */
#define INT_USED_BUFFER		1
#define INT_CONFIG_CHANGE	2

static uint64_t offered(const struct virtio_mmio *t)
{
	uint64_t extra = t->ops->instance_features ? t->ops->instance_features(t->dev) : 0;

	return t->ops->features | extra | (1ULL << VIRTIO_F_VERSION_1);
}

bool virtio_mmio_has_feature(const struct virtio_mmio *t, unsigned bit)
{
	return t->driver_features & (1ULL << bit);
}

bool virtio_mmio_active(const struct virtio_mmio *t)
{
	return (t->status & VIRTIO_STATUS_DRIVER_OK) && !(t->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void raise_irq(struct virtio_mmio *t, uint32_t why)
{
	uint64_t one = 1;

	t->interrupt_status |= why;
	if (t->irq_fd >= 0) {
		if (write(t->irq_fd, &one, sizeof(one)) == sizeof(one))
			return;
	}
	vm_irq_pulse(t->vm, t->irq);
}

void virtio_mmio_signal(struct virtio_mmio *t, unsigned q)
{
	if (q < t->ops->nqueues && t->queues[q].ready && virtq_need_interrupt(&t->queues[q]))
		raise_irq(t, INT_USED_BUFFER);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->config_generation++;
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(t, INT_CONFIG_CHANGE);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why)
{
	if (t->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	dev_warn(t->name, "guest driver error: %s; device stopped until the driver resets it", why);
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned i = 0; i < t->ops->nqueues; i++)
		t->queues[i].ready = false;
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(t, INT_CONFIG_CHANGE);
}

static void device_reset(struct virtio_mmio *t)
{
	if (t->ops->reset)
		t->ops->reset(t->dev);
	for (unsigned i = 0; i < t->ops->nqueues; i++) {
		virtq_reset(&t->queues[i]);
		t->queues[i].event_idx = t->queues[i].indirect = false;
	}
	t->status = 0;
	t->driver_features = 0;
	t->device_features_sel = t->driver_features_sel = t->queue_sel = 0;
	t->interrupt_status = 0;
}

static void bad_access(struct virtio_mmio *t, const char *what, uint64_t off, unsigned len)
{
	if (!t->warned)
		dev_warn(t->name, "ignoring bad %s of %u bytes at offset 0x%llx", what, len,
			 (unsigned long long)off);
	t->warned = true;
}

static struct virtq *selected(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->nqueues ? &t->queues[t->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtq *q = selected(t);

	switch (off) {
	case REG_MAGIC: return VIRTIO_MMIO_MAGIC;
	case REG_VERSION: return 2;
	case REG_DEVICE_ID: return t->ops->device_id;
	case REG_VENDOR_ID: return VIRTIO_VENDOR_ID;
	case REG_DEVICE_FEATURES:
		return t->device_features_sel > 1 ? 0 : (uint32_t)(offered(t) >> (32 * t->device_features_sel));
	case REG_QUEUE_NUM_MAX: return q ? t->ops->queue_size : 0;
	case REG_QUEUE_READY: return q ? q->ready : 0;
	case REG_INTERRUPT_STATUS:
		/*
		 * A vhost-user daemon interrupts through the irqfd without telling us:
		 * report used buffers on every interrupt (the driver then checks its rings).
		 */
		return t->interrupt_status | (t->ops->vhost_user && virtio_mmio_active(t) ? INT_USED_BUFFER : 0);
	case REG_STATUS: return t->status;
	case REG_CONFIG_GENERATION: return t->config_generation;
	default: return 0;
	}
}

static void set_addr(uint64_t *addr, bool high, uint32_t v)
{
	*addr = high ? (*addr & 0xffffffffULL) | ((uint64_t)v << 32) : (*addr & ~0xffffffffULL) | v;
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
	if (v == 0) {
		device_reset(t);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Accept only a subset of what we offer, with VERSION_1 (no legacy). */
		if ((t->driver_features & ~offered(t)) ||
		    !(t->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
		for (unsigned i = 0; i < t->ops->nqueues; i++) {
			t->queues[i].event_idx = virtio_mmio_has_feature(t, VIRTIO_F_EVENT_IDX);
			t->queues[i].indirect = virtio_mmio_has_feature(t, VIRTIO_F_INDIRECT_DESC);
		}
	}
	v |= t->status & VIRTIO_STATUS_NEEDS_RESET;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(t->status & VIRTIO_STATUS_DRIVER_OK)) {
		t->status = v;
		if (t->ops->activate)
			t->ops->activate(t->dev);
		return;
	}
	t->status = v;
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct virtq *q = selected(t);
	bool queue_reg = off == REG_QUEUE_NUM || off == REG_QUEUE_READY ||
			 (off >= REG_QUEUE_DESC_LOW && off <= REG_QUEUE_DEVICE_HIGH);

	if (queue_reg && (!q || (q->ready && off != REG_QUEUE_READY))) {
		bad_access(t, "queue register write", off, 4);	/* no queue, or live queue */
		return;
	}
	switch (off) {
	case REG_DEVICE_FEATURES_SEL: t->device_features_sel = v; break;
	case REG_DRIVER_FEATURES_SEL: t->driver_features_sel = v; break;
	case REG_DRIVER_FEATURES:
		if (t->status & VIRTIO_STATUS_FEATURES_OK)
			break;	/* frozen once accepted */
		if (t->driver_features_sel == 0)
			t->driver_features = (t->driver_features & ~0xffffffffULL) | v;
		else if (t->driver_features_sel == 1)
			t->driver_features = (t->driver_features & 0xffffffffULL) | ((uint64_t)v << 32);
		break;
	case REG_QUEUE_SEL: t->queue_sel = v; break;
	case REG_QUEUE_NUM:
		q->num = v <= t->ops->queue_size ? v : 0;
		break;
	case REG_QUEUE_READY:
		if (!v) {
			q->ready = false;
		} else if (!q->ready && virtq_enable(q, &t->vm->mem)) {
			virtio_mmio_needs_reset(t, "queue rings outside guest RAM or misaligned");
		}
		break;
	case REG_QUEUE_DESC_LOW: case REG_QUEUE_DESC_HIGH:
		set_addr(&q->desc_gpa, off == REG_QUEUE_DESC_HIGH, v);
		break;
	case REG_QUEUE_DRIVER_LOW: case REG_QUEUE_DRIVER_HIGH:
		set_addr(&q->avail_gpa, off == REG_QUEUE_DRIVER_HIGH, v);
		break;
	case REG_QUEUE_DEVICE_LOW: case REG_QUEUE_DEVICE_HIGH:
		set_addr(&q->used_gpa, off == REG_QUEUE_DEVICE_HIGH, v);
		break;
	case REG_QUEUE_NOTIFY:
		/* Normally caught by the ioeventfd; forward it the same way if not. */
		if (v < t->ops->nqueues) {
			uint64_t one = 1;

			if (write(t->kick_fd[v], &one, sizeof(one)) < 0)
				dev_debug(t->name, "kick: %s", strerror(errno));
		}
		break;
	case REG_INTERRUPT_ACK: t->interrupt_status &= ~v; break;
	case REG_STATUS: write_status(t, v); break;
	default: bad_access(t, "register write", off, 4); break;
	}
}

static void mmio_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct virtio_mmio *t = opaque;
	uint32_t v;

	memset(data, 0, len);
	pthread_mutex_lock(&t->lock);
	if (off >= REG_CONFIG) {
		if (off - REG_CONFIG + len <= t->ops->config_size && t->ops->config_read)
			t->ops->config_read(t->dev, off - REG_CONFIG, data, len);
		else
			bad_access(t, "config read", off, len);
	} else if (len == 4 && !(off & 3)) {
		v = reg_read(t, off);
		memcpy(data, &v, 4);
	} else {
		bad_access(t, "register read", off, len);
	}
	pthread_mutex_unlock(&t->lock);
}

static void mmio_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct virtio_mmio *t = opaque;
	uint32_t v;

	pthread_mutex_lock(&t->lock);
	if (off >= REG_CONFIG) {
		if (off - REG_CONFIG + len <= t->ops->config_size && t->ops->config_write)
			t->ops->config_write(t->dev, off - REG_CONFIG, data, len);
		else
			bad_access(t, "config write", off, len);
	} else if (len == 4 && !(off & 3)) {
		memcpy(&v, data, 4);
		reg_write(t, off, v);
	} else {
		bad_access(t, "register write", off, len);
	}
	pthread_mutex_unlock(&t->lock);
}

static const struct io_ops mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

static void on_kick(void *opaque, uint32_t events)
{
	struct virtio_mmio *t = opaque;
	uint64_t n;

	/* The loop tells us the device, not the queue: drain every kick fd. */
	for (unsigned q = 0; q < t->ops->nqueues; q++) {
		if (read(t->kick_fd[q], &n, sizeof(n)) != sizeof(n))
			continue;
		pthread_mutex_lock(&t->lock);
		if (virtio_mmio_active(t) && t->queues[q].ready && t->ops->queue_notify)
			t->ops->queue_notify(t->dev, q);
		pthread_mutex_unlock(&t->lock);
	}
}

static int hook_eventfds(struct virtio_mmio *t)
{
	struct kvm_irqfd irqfd = { .gsi = t->irq };
	int ret;

	t->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->irq_fd < 0)
		return -errno;
	irqfd.fd = t->irq_fd;
	if (ioctl(t->vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		dev_debug(t->name, "KVM_IRQFD: %s; using KVM_IRQ_LINE", strerror(errno));
		close(t->irq_fd);
		t->irq_fd = -1;
	}
	for (unsigned q = 0; q < t->ops->nqueues; q++) {
		struct kvm_ioeventfd io = {
			.datamatch = q, .addr = t->base + REG_QUEUE_NOTIFY, .len = 4,
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};

		t->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->kick_fd[q] < 0)
			return -errno;
		io.fd = t->kick_fd[q];
		if (ioctl(t->vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			dev_debug(t->name, "KVM_IOEVENTFD: %s; kicks go through MMIO exits", strerror(errno));
		if (t->ops->vhost_user)
			continue;	/* the daemon waits on the kick itself */
		ret = loop_add(t->vm->loop, t->kick_fd[q], EPOLLIN, on_kick, t);
		if (ret)
			return ret;
	}
	/* A daemon can only interrupt the guest through an irqfd. */
	return t->ops->vhost_user && t->irq_fd < 0 ? -ENOTSUP : 0;
}

int virtio_mmio_kick_fd(const struct virtio_mmio *t, unsigned q)
{
	return q < t->ops->nqueues ? t->kick_fd[q] : -1;
}

int virtio_mmio_irq_fd(const struct virtio_mmio *t)
{
	return t->irq_fd;
}

int virtio_mmio_create(struct vm *vm, const struct virtio_mmio_config *cfg,
		       const struct virtio_device_ops *ops, void *dev, struct virtio_mmio **out)
{
	struct virtio_mmio *t;
	int ret;

	if (ops->nqueues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->vm = vm;
	t->ops = ops;
	t->dev = dev;
	t->base = cfg->base;
	t->irq = cfg->irq;
	t->slot = cfg->slot;
	t->irq_fd = -1;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		t->kick_fd[q] = -1;
	snprintf(t->name, sizeof(t->name), "%s", cfg->name ? cfg->name : ops->name);
	pthread_mutex_init(&t->lock, NULL);

	ret = io_bus_register(&vm->mmio, t->base, VIRTIO_MMIO_WINDOW, &mmio_ops, t, t->name);
	if (!ret)
		ret = hook_eventfds(t);
	if (ret) {
		virtio_mmio_destroy(t);
		return ret;
	}
	*out = t;
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	if (!t)
		return;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (t->kick_fd[q] < 0)
			continue;
		if (!t->ops->vhost_user)
			loop_remove(t->vm->loop, t->kick_fd[q]);
		close(t->kick_fd[q]);
	}
	if (t->irq_fd >= 0)
		close(t->irq_fd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct queue_state {
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t num, last_avail, used_idx, signalled_used;
	uint8_t ready, event_idx, indirect, signalled_valid;
};

struct transport_state {
	uint32_t device_id, nqueues;
	uint32_t status, device_features_sel, driver_features_sel, queue_sel;
	uint32_t interrupt_status, config_generation;
	uint64_t driver_features;
	struct queue_state q[VIRTIO_MAX_QUEUES];
};

#define SAVED_CONFIG_MAX	256

/* The device's configuration space as the driver would read it now. */
static uint32_t read_config(struct virtio_mmio *t, uint8_t *buf)
{
	uint32_t len = t->ops->config_size < SAVED_CONFIG_MAX ? t->ops->config_size : SAVED_CONFIG_MAX;

	memset(buf, 0, SAVED_CONFIG_MAX);
	for (uint32_t off = 0; t->ops->config_read && off < len; off++)
		t->ops->config_read(t->dev, off, buf + off, 1);
	return len;
}

void virtio_mmio_save(struct virtio_mmio *t, struct snapbuf *b)
{
	struct transport_state st;
	uint8_t config[SAVED_CONFIG_MAX];
	uint32_t config_len;

	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&t->lock);
	st.device_id = t->ops->device_id;
	st.nqueues = t->ops->nqueues;
	st.status = t->status;
	st.device_features_sel = t->device_features_sel;
	st.driver_features_sel = t->driver_features_sel;
	st.queue_sel = t->queue_sel;
	st.interrupt_status = t->interrupt_status;
	st.config_generation = t->config_generation;
	st.driver_features = t->driver_features;
	for (unsigned i = 0; i < t->ops->nqueues; i++) {
		const struct virtq *q = &t->queues[i];

		st.q[i] = (struct queue_state){
			q->desc_gpa, q->avail_gpa, q->used_gpa, q->num, q->last_avail, q->used_idx,
			q->signalled_used, q->ready, q->event_idx, q->indirect, q->signalled_valid,
		};
	}
	config_len = read_config(t, config);
	pthread_mutex_unlock(&t->lock);
	snapbuf_putf(b, &st, sizeof(st), "virtio%u", t->slot);
	snapbuf_putf(b, config, config_len, "virtio%u.config", t->slot);
}

int virtio_mmio_restore(struct virtio_mmio *t, const struct snapreader *r)
{
	struct transport_state st;
	uint8_t config[SAVED_CONFIG_MAX];
	const void *p, *saved_config;
	uint32_t saved_len;
	int ret = 0;

	if (snapreader_getf(r, &p, NULL, sizeof(st), "virtio%u", t->slot) ||
	    snapreader_getf(r, &saved_config, &saved_len, 0, "virtio%u.config", t->slot))
		return -EINVAL;
	memcpy(&st, p, sizeof(st));
	if (st.device_id != t->ops->device_id || st.nqueues != t->ops->nqueues)
		return -ENODEV;		/* the machine says which */
	pthread_mutex_lock(&t->lock);
	t->status = st.status;
	t->device_features_sel = st.device_features_sel;
	t->driver_features_sel = st.driver_features_sel;
	t->queue_sel = st.queue_sel;
	t->interrupt_status = st.interrupt_status;
	t->config_generation = st.config_generation;
	t->driver_features = st.driver_features;
	for (unsigned i = 0; i < t->ops->nqueues && !ret; i++) {
		struct virtq *q = &t->queues[i];
		const struct queue_state *s = &st.q[i];

		virtq_reset(q);
		q->desc_gpa = s->desc_gpa;
		q->avail_gpa = s->avail_gpa;
		q->used_gpa = s->used_gpa;
		q->num = s->num;
		q->last_avail = s->last_avail;
		q->used_idx = s->used_idx;
		q->signalled_used = s->signalled_used;
		q->signalled_valid = s->signalled_valid;
		q->event_idx = s->event_idx;
		q->indirect = s->indirect;
		if (s->ready && virtq_remap(q, &t->vm->mem))
			ret = -EINVAL;
	}
	/* The device learns the negotiated features as it did at DRIVER_OK. */
	if (!ret && (t->status & VIRTIO_STATUS_DRIVER_OK) && t->ops->activate)
		t->ops->activate(t->dev);
	/* This VM's device differs from the saved one (a disk of another size): tell the driver. */
	if (!ret && (saved_len != read_config(t, config) || memcmp(saved_config, config, saved_len)))
		virtio_mmio_config_changed(t);
	pthread_mutex_unlock(&t->lock);
	return ret;
}
