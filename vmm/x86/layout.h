/* Where the x86 direct boot puts things in guest physical memory. */
#ifndef VMM_X86_LAYOUT_H
#define VMM_X86_LAYOUT_H

#define BOOT_GDT_ADDR		0x500ULL
#define BOOT_ZERO_PAGE_ADDR	0x7000ULL	/* struct boot_params, %rsi at entry */
#define BOOT_STACK_TOP		0x8ff0ULL
#define BOOT_PML4_ADDR		0x9000ULL
#define BOOT_PDPT_ADDR		0xa000ULL
#define BOOT_PD_ADDR		0xb000ULL	/* 4 tables: identity map of 4 GiB, 2 MiB pages */
#define BOOT_CMDLINE_ADDR	0x20000ULL
#define BOOT_CMDLINE_MAX	2048		/* x86 COMMAND_LINE_SIZE, with the NUL */
#define EBDA_START		0x9fc00ULL	/* MP table; reserved up to 1 MiB */
#define HIGH_MEMORY		0x100000ULL	/* 1 MiB */
#define KERNEL_MIN_ADDR		HIGH_MEMORY

#define IOAPIC_ADDR		0xfec00000ULL
#define LAPIC_ADDR		0xfee00000ULL
#define IOAPIC_PINS		24

#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL

/*
 * MMIO windows for our devices, in the 32-bit hole: the exit-status page at
 * 0xd0000000 (PROTO_EXIT_DEVICE, guest-agent/protocol.h), then one 4 KiB
 * window per virtio device.
 */
#define VIRTIO_MMIO_BASE	0xd0001000ULL
#define VIRTIO_IRQ_BASE		5		/* first GSI for virtio devices */

/* Legacy ports. */
#define SERIAL_COM1_PORT	0x3f8
#define SERIAL_COM1_IRQ		4
#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define RTC_PORT		0x70

#endif
