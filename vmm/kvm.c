#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/kvm.h"
#include "vmm/base/util.h"

const struct kvm_cap_req kvm_required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
};
const unsigned kvm_required_caps_count = ARRAY_SIZE(kvm_required_caps);

bool kvm_device_registered(void)
{
	char *misc = NULL;
	bool found;

	if (read_file(AT_FDCWD, "/proc/misc", 1 << 16, &misc, NULL))
		return true;	/* cannot tell: assume so, and blame nothing else */
	found = strstr(misc, " kvm\n") != NULL;
	free(misc);
	return found;
}

int kvm_open(const char **why, const char **cap_name)
{
	int fd, ret;

	*cap_name = NULL;
	fd = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		*why = ret == -ENOENT && kvm_host_is_pvm() && !kvm_device_registered() ?
			"not present, although kvm_pvm is loaded: it makes no /dev/kvm when this kernel is itself a "
			"PVM guest (dmesg: 'kvm-pvm: ... not binding'); run vmm on a host with hardware KVM or "
			"a PVM host that is not nested"
		     : ret == -ENOENT ? "not present (load kvm_intel or kvm_amd; in a VM, enable nested virtualization)"
		     : ret == -EACCES ? "permission denied (add your user to group 'kvm': sudo usermod -aG kvm $USER, then log in again)"
		     : "cannot be opened";
		return ret;
	}
	ret = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		*why = "unsupported KVM API version (need 12)";
		close(fd);
		return -ENOTSUP;
	}
	for (unsigned i = 0; i < kvm_required_caps_count; i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0) {
			*why = "missing a required capability";
			*cap_name = kvm_required_caps[i].name;
			close(fd);
			return -ENOTSUP;
		}
	}
	*why = NULL;
	return fd;
}

bool kvm_host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}
