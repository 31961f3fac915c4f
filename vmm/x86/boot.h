/* Direct 64-bit boot: kernel, initrd, zero page, MP table, page tables, BSP registers. */
#ifndef VMM_X86_BOOT_H
#define VMM_X86_BOOT_H

struct error;
struct vm;

struct boot_config {
	const char *kernel;	/* ELF vmlinux */
	const char *initrd;	/* NULL: none */
	const char *cmdline;	/* the complete kernel command line */
};

/* Load everything into guest RAM and set the boot vCPU's registers. 0 or -errno with e. */
int x86_boot(struct vm *vm, const struct boot_config *cfg, struct error *e);

#endif
