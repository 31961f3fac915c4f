#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "vmm/x86/layout.h"
#include "vmm/x86/mptable.h"

struct mpf_intel {
	char signature[4];	/* "_MP_" */
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
	char signature[4];	/* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };
#define CPU_ENABLED	1
#define CPU_BOOTPROCESSOR 2
#define APIC_VERSION	0x14
#define IOAPIC_VERSION	0x11
#define CPU_SIGNATURE	0x600	/* family 6 */
#define CPU_FEATURES	0x201	/* FPU, APIC */

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

int mptable_build(void *buf, size_t len, unsigned long addr, unsigned ncpus)
{
	size_t need = sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
		      ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
		      sizeof(struct mpc_ioapic) + (IOAPIC_PINS + 2) * sizeof(struct mpc_intsrc);
	uint8_t *p = buf;
	struct mpf_intel *mpf = buf;
	struct mpc_table *mpc;
	uint8_t ioapic_id = ncpus;
	uint16_t count = 0;

	if (need > len || ncpus == 0 || ncpus > 254)
		return -ENOSPC;
	memset(buf, 0, need);

	mpc = (struct mpc_table *)(p + sizeof(*mpf));
	p = (uint8_t *)(mpc + 1);
	for (unsigned i = 0; i < ncpus; i++, count++) {
		struct mpc_cpu *c = (struct mpc_cpu *)p;

		c->type = MP_PROCESSOR;
		c->apicid = i;
		c->apicver = APIC_VERSION;
		c->cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0);
		c->cpufeature = CPU_SIGNATURE;
		c->featureflag = CPU_FEATURES;
		p += sizeof(*c);
	}
	{
		struct mpc_bus *b = (struct mpc_bus *)p;

		b->type = MP_BUS;
		b->busid = 0;
		memcpy(b->bustype, "ISA   ", 6);
		p += sizeof(*b);
		count++;
	}
	{
		struct mpc_ioapic *io = (struct mpc_ioapic *)p;

		io->type = MP_IOAPIC;
		io->apicid = ioapic_id;
		io->apicver = IOAPIC_VERSION;
		io->flags = 1;
		io->apicaddr = IOAPIC_ADDR;
		p += sizeof(*io);
		count++;
	}
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++, count++) {
		struct mpc_intsrc *s = (struct mpc_intsrc *)p;

		s->type = MP_INTSRC;
		s->irqtype = MP_INT;
		s->srcbus = 0;
		s->srcbusirq = pin;
		s->dstapic = ioapic_id;
		s->dstirq = pin;
		p += sizeof(*s);
	}
	for (unsigned lint = 0; lint < 2; lint++, count++) {
		struct mpc_intsrc *s = (struct mpc_intsrc *)p;

		s->type = MP_LINTSRC;
		s->irqtype = lint == 0 ? MP_EXTINT : MP_NMI;
		s->dstapic = 0xff;	/* all local APICs */
		s->dstirq = lint;
		p += sizeof(*s);
	}

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec = 4;
	memcpy(mpc->oem, "VMM     ", 8);
	memcpy(mpc->productid, "MICROVM     ", 12);
	mpc->oemcount = count;
	mpc->lapic = LAPIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = addr + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return p - (uint8_t *)buf;
}
