/* CPUID filtering: topology, hypervisor bit, KVM paravirt features on PVM hosts. */
#include <linux/kvm.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/x86/cpuid.h"

static unsigned fill(struct kvm_cpuid_entry2 *e)
{
	unsigned n = 0;

	e[n++] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0xa20f11, .ebx = 0x00020800,
					    .ecx = 0x76d8320b, .edx = 0x178bfbff };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xa, .eax = 0x07300402, .ebx = 1 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 2 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = KVM_CPUID_SIGNATURE, .eax = KVM_CPUID_FEATURES,
					    .ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x4d };
	e[n++] = (struct kvm_cpuid_entry2){ .function = KVM_CPUID_FEATURES, .eax = 0x01007afb };
	return n;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid_entry2 *e, unsigned n,
					   uint32_t fn, uint32_t idx)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

static void test_hardware_kvm(void)
{
	struct kvm_cpuid_entry2 e[16];
	struct cpuid_policy p = { .apic_id = 3, .ncpus = 4, .pvm = false };
	unsigned n = fill(e);
	const struct kvm_cpuid_entry2 *l1;

	cpuid_filter(e, n, &p);
	l1 = find(e, n, 1, 0);
	ok((l1->ebx >> 24) == 3, "leaf 1: initial APIC ID is the vCPU id");
	ok(((l1->ebx >> 16) & 0xff) == 4, "leaf 1: logical processor count");
	ok((l1->ebx & 0xffff) == 0x0800, "leaf 1: low EBX bits kept");
	ok(l1->ecx & (1u << 31), "leaf 1: hypervisor bit set");
	ok(l1->edx & (1u << 28), "leaf 1: HTT set with several CPUs");
	ok(l1->eax == 0xa20f11, "leaf 1: signature untouched");
	ok(find(e, n, 0xa, 0)->eax == 0 && find(e, n, 0xa, 0)->ebx == 0, "leaf 0xa: no virtual PMU");
	ok(find(e, n, 0xb, 0)->edx == 3 && find(e, n, 0xb, 1)->edx == 3, "leaf 0xb: x2APIC id in every subleaf");
	ok(find(e, n, 0xb, 1)->ebx == 4 && find(e, n, 0xb, 1)->eax == 2, "leaf 0xb: 4 cores, shift 2");
	ok(find(e, n, 0xb, 2)->ebx == 0 && (find(e, n, 0xb, 2)->ecx & 0xff00) == 0, "leaf 0xb: level 2 invalid");
	ok(find(e, n, KVM_CPUID_FEATURES, 0)->eax == 0x01007afb, "hardware KVM: paravirt features untouched");
}

static void test_pvm_one_cpu(void)
{
	struct kvm_cpuid_entry2 e[16];
	struct cpuid_policy p = { .apic_id = 0, .ncpus = 1, .pvm = true };
	unsigned n = fill(e);
	const struct kvm_cpuid_entry2 *l1;

	cpuid_filter(e, n, &p);
	l1 = find(e, n, 1, 0);
	ok(!(l1->edx & (1u << 28)), "one CPU: HTT clear");
	ok((find(e, n, KVM_CPUID_FEATURES, 0)->eax & ((1u << 0) | (1u << 3))) == 0, "PVM: kvmclock hidden");
	ok((find(e, n, KVM_CPUID_FEATURES, 0)->eax & ((1u << 11) | (1u << 13) | (1u << 7))) == 0,
	   "PVM: hypercall-based PV IPI, sched-yield and unhalt hidden");
	ok(find(e, n, KVM_CPUID_FEATURES, 0)->eax & (1u << 1), "PVM: NOP_IO_DELAY kept");
	ok(find(e, n, KVM_CPUID_SIGNATURE, 0)->ebx == 0x4b4d564b, "KVM signature kept");
}

int main(void)
{
	test_hardware_kvm();
	test_pvm_one_cpu();
	return tap_done();
}
