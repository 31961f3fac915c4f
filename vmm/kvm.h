/* /dev/kvm: open it, check the API and the capabilities vmm relies on. */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stdbool.h>

#define KVM_DEV_PATH "/dev/kvm"

struct kvm_cap_req {
	int cap;		/* KVM_CAP_* */
	const char *name;
};

/* Capabilities without which vmm cannot run a VM. */
extern const struct kvm_cap_req kvm_required_caps[];
extern const unsigned kvm_required_caps_count;

/*
 * Open /dev/kvm and check the API version and required capabilities.
 * Returns the fd or -errno; on failure *why names the problem (static text)
 * and, for a missing capability, *cap_name the capability.
 */
int kvm_open(const char **why, const char **cap_name);

/* True when this host's KVM is the nested "PVM" implementation (HOST-PVM.md). */
bool kvm_host_is_pvm(void);
/* Did a KVM module register its device (/proc/misc), whether or not /dev shows it? */
bool kvm_device_registered(void);

#endif
