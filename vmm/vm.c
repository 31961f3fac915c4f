#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/kvm.h"
#include "vmm/loop.h"
#include "vmm/confine.h"
#include "vmm/vm.h"
#include "vmm/x86/arch.h"
#include "vmm/x86/quirks-pvm.h"

static int set_memory(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nregions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			return -errno;
	}
	return 0;
}

int vm_create(const struct vm_config *cfg, struct event_loop *loop,
	      struct console *con, struct vm **out, struct error *e)
{
	struct vm *vm;
	const char *why, *cap;
	bool pvm;
	int ret;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return err_set(e, -ENOMEM, "out of memory");
	vm->name = cfg->name ? cfg->name : "vm";
	vm->kvm_fd = vm->vm_fd = vm->watchdog_fd = -1;
	vm->profile_fd = vm->profile_timer_fd = -1;
	vm->loop = loop;
	vm->console = con;
	vm->ncpus = cfg->ncpus;
	vm->confine = cfg->confine;
	vm->confine_opaque = cfg->confine_opaque;
	vm->pio.name = "pio";
	vm->mmio.name = "mmio";
	pthread_mutex_init(&vm->end_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);

	if ((ret = confine_process_limits(e)))
		goto fail;
	vm->kvm_fd = kvm_open(&why, &cap);
	if (vm->kvm_fd < 0) {
		ret = err_set(e, vm->kvm_fd, "%s: %s%s%s", KVM_DEV_PATH, why, cap ? ": " : "", cap ? cap : "");
		goto fail;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = err_sys(e, -errno, "KVM_CREATE_VM");
		goto fail;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		ret = err_set(e, -EINVAL, "KVM_GET_VCPU_MMAP_SIZE failed");
		goto fail;
	}

	pvm = cfg->quirks == QUIRKS_ON || (cfg->quirks == QUIRKS_AUTO && kvm_host_is_pvm());
	ret = arch_vm_init(vm, e);
	if (ret)
		goto fail;

	if (cfg->mem_file) {
		int fd = open(cfg->mem_file, O_RDONLY | O_CLOEXEC);

		ret = fd < 0 ? -errno : cfg->shared_mem ? guest_mem_load_shared(&vm->mem, cfg->mem_size, fd) :
		      guest_mem_map_file(&vm->mem, cfg->mem_size, fd);
		if (fd >= 0)
			close(fd);
		if (ret) {
			err_sys(e, ret, "snapshot memory %s", cfg->mem_file);
			goto fail;
		}
	} else {
		ret = cfg->shared_mem ? guest_mem_alloc_shared(&vm->mem, cfg->mem_size) :
		      guest_mem_alloc(&vm->mem, cfg->mem_size);
		if (ret) {
			err_sys(e, ret, "guest memory: cannot map %llu MiB", (unsigned long long)(cfg->mem_size >> 20));
			goto fail;
		}
	}
	ret = set_memory(vm);
	if (ret) {
		err_sys(e, ret, "KVM_SET_USER_MEMORY_REGION");
		goto fail;
	}

	for (unsigned i = 0; i < vm->ncpus; i++) {
		ret = vcpu_init(vm, i, e);
		if (ret)
			goto fail;
	}
	if (pvm) {
		ret = pvm_quirks_create(vm, &vm->pvm);
		if (ret) {
			err_sys(e, ret, "PVM host quirks");
			goto fail;
		}
		dev_info(vm->name, "PVM host: guest-kernel workarounds enabled");
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		ret = arch_vcpu_init(&vm->vcpus[i], e);
		if (ret)
			goto fail;
	}
	*out = vm;
	return 0;
fail:
	vm_destroy(vm);
	return ret;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->watchdog_fd >= 0) {
		loop_remove(vm->loop, vm->watchdog_fd);
		close(vm->watchdog_fd);
	}
	if (vm->profile_timer_fd >= 0) {
		loop_remove(vm->loop, vm->profile_timer_fd);
		close(vm->profile_timer_fd);
	}
	if (vm->profile_fd >= 0)
		close(vm->profile_fd);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd > 0)
			close(v->fd);
	}
	pvm_quirks_destroy(vm->pvm);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	guest_mem_free(&vm->mem);
	io_bus_free(&vm->pio);
	io_bus_free(&vm->mmio);
	pthread_mutex_destroy(&vm->end_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
	free(vm);
}

/*
 * HLT is handled inside KVM, so a guest that powers off without ACPI (halt
 * with interrupts off on every vCPU) is invisible; poll for it once a second.
 */
static void watchdog(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	unsigned halted = 0;

	/* Parked vCPUs run nothing: waking them would only spend CPU time on a paused VM. */
	if (atomic_load(&vm->pause_req))
		return;
	for (unsigned i = 0; i < vm->ncpus; i++)
		halted += atomic_load(&vm->vcpus[i].halted);
	if (halted == vm->ncpus) {
		vm_end(vm, VM_END_HALT, 0, "all vCPUs halted with interrupts disabled");
		return;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		atomic_store(&vm->vcpus[i].check_halt, true);
		vcpu_kick(&vm->vcpus[i]);
	}
}

static void profile_tick(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;

	for (unsigned i = 0; i < vm->ncpus; i++) {
		atomic_store(&vm->vcpus[i].sample_rip, true);
		vcpu_kick(&vm->vcpus[i]);
	}
}

/* A debugging aid: sample guest RIPs every 2 ms into $VMM_PROFILE. */
static void start_profiler(struct vm *vm)
{
	const char *path = getenv("VMM_PROFILE");

	if (!path || !*path)
		return;
	vm->profile_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (vm->profile_fd < 0) {
		pr_warn("VMM_PROFILE %s: %s", path, strerror(errno));
		return;
	}
	vm->profile_timer_fd = loop_add_timer(vm->loop, 2, profile_tick, vm);
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vm_start(struct vm *vm, struct error *e)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	char name[16];
	int ret;

	/* No SA_RESTART: the signal must make KVM_RUN return EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	ret = loop_add_timer(vm->loop, 1000, watchdog, vm);
	if (ret < 0)
		return err_sys(e, ret, "watchdog timer");
	vm->watchdog_fd = ret;
	start_profiler(vm);
	if (vm->confine && (ret = vm->confine(vm->confine_opaque, e)))
		return ret;

	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		ret = -pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret) {
			vm_end(vm, VM_END_ERROR, 0, "cannot start vCPU thread: %s", strerror(-ret));
			return err_sys(e, ret, "cannot start vCPU thread");
		}
		v->thread_started = true;
		snprintf(name, sizeof(name), "vcpu%u", i);	/* for top -H, gdb and the tests */
		pthread_setname_np(v->thread, name);
	}
	return 0;
}

void vm_end(struct vm *vm, enum vm_end_reason reason, int status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->end_lock);
	if (atomic_load(&vm->end_reason) == VM_END_NONE) {
		vm->end_status = status;
		va_start(ap, fmt);
		vsnprintf(vm->end_detail, sizeof(vm->end_detail), fmt, ap);
		va_end(ap);
		atomic_store(&vm->end_reason, reason);
	}
	pthread_mutex_unlock(&vm->end_lock);
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_req, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	loop_stop(vm->loop);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].thread_started && !pthread_equal(vm->vcpus[i].thread, pthread_self()))
			vcpu_kick(&vm->vcpus[i]);
}

void vm_join(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->thread_started)
			continue;
		vcpu_kick(v);
		pthread_join(v->thread, NULL);
		v->thread_started = false;
	}
}

bool vm_pause(struct vm *vm)
{
	bool ok;

	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_req, true);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	while (vm->parked < vm->ncpus && vm_end_reason(vm) == VM_END_NONE)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	ok = vm->parked == vm->ncpus;
	pthread_mutex_unlock(&vm->pause_lock);
	return ok;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_req, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

enum vm_end_reason vm_end_reason(struct vm *vm)
{
	return atomic_load(&vm->end_reason);
}

int vm_irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int vm_irq_pulse(struct vm *vm, unsigned irq)
{
	int ret = vm_irq_line(vm, irq, 1);

	return ret ? ret : vm_irq_line(vm, irq, 0);
}
