/*
 * A hostile guest driving virtio-blk through the virtio-mmio registers: any
 * sequence of register reads and writes (status, features, queue setup,
 * notifications, configuration space, bad offsets and sizes), any bytes in
 * guest RAM where its descriptors and requests live, and kicks that run the
 * device on the event loop, as the vCPU and loop threads would. No KVM: the
 * VM is the parts a device touches (RAM, the MMIO bus, the loop).
 * Input: repeated 8-byte ops
 *   u8 kind   0 write32, 1 read32, 2 write (len 1/2/8: bad sizes), 3 poke RAM,
 *             4 run the loop (deliver kicks), 5 a whole legal queue setup
 *   u8 arg    access size or RAM offset selector
 *   u16 off   register offset in the window (or RAM offset / 64)
 *   u32 value
 * Checked: the backend only sees in-range requests; ASan/UBSan do the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/blk.h"
#include "vmm/base/util.h"
#include "vmm/io.h"
#include "vmm/loop.h"
#include "vmm/vm.h"

#define MEM		(2 * MiB)
#define DISK		(1 * MiB)
#define BASE		0xd0000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t disk[DISK];

static void check_range(uint64_t off, uint64_t len)
{
	if (off > DISK || len > DISK - off)
		__builtin_trap();
}

static int be_read(void *o, void *buf, size_t len, uint64_t off)
{
	check_range(off, len);
	memcpy(buf, disk + off, len);
	return 0;
}

static int be_write(void *o, const void *buf, size_t len, uint64_t off)
{
	check_range(off, len);
	memcpy(disk + off, buf, len);
	return 0;
}

static int be_flush(void *o)
{
	return 0;
}

static int be_discard(void *o, uint64_t off, uint64_t len)
{
	check_range(off, len);
	return 0;
}

static int be_zeroes(void *o, uint64_t off, uint64_t len, bool unmap)
{
	check_range(off, len);
	memset(disk + off, 0, len);
	return 0;
}

static const char *be_error(void *o)
{
	return "fuzz";
}

static void be_close(void *o)
{
}

static const struct blk_backend_ops ops = {
	be_read, be_write, be_flush, be_discard, be_zeroes, be_error, be_close,
};

static void reg_write(struct vm *vm, uint32_t off, uint32_t v)
{
	io_bus_access(&vm->mmio, BASE + off, &v, 4, true);
}

/* A driver's legal setup of queue 0 at fixed places, so the fuzzer reaches the requests. */
static void legal_setup(struct vm *vm)
{
	static const uint32_t seq[][2] = {
		{ 0x070, 0 }, { 0x070, 1 }, { 0x070, 3 }, { 0x024, 1 }, { 0x020, 1 }, { 0x024, 0 },
		{ 0x020, 0x30006000 }, { 0x070, 11 }, { 0x030, 0 }, { 0x038, 16 }, { 0x080, 0x1000 },
		{ 0x084, 0 }, { 0x090, 0x2000 }, { 0x094, 0 }, { 0x0a0, 0x3000 }, { 0x0a4, 0 },
		{ 0x044, 1 }, { 0x070, 15 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(seq); i++)
		reg_write(vm, seq[i][0], seq[i][1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	static struct virtio_blk *b;
	struct virtio_blk_config cfg = {
		.mmio = { .base = BASE, .irq = 5, .slot = 0, .name = "fuzz-blk" },
		.backend = { .ops = &ops, .name = "fuzz", .size = DISK, .read_only = false },
		.serial = "fuzz-serial",
	};

	/* One device for the whole run (its window stays on the bus); each input starts with a reset. */
	if (!b) {
		vm.vm_fd = -1;
		vm.name = "fuzz";
		if (guest_mem_alloc(&vm.mem, MEM) || loop_create(&vm.loop) ||
		    virtio_blk_create(&vm, &cfg, &b))
			abort();
	}
	memset(vm.mem.regions[0].hva, 0, 0x40000);
	reg_write(&vm, 0x070, 0);
	for (size_t i = 0; i + 8 <= size; i += 8) {
		uint8_t kind = data[i] % 6, arg = data[i + 1];
		uint16_t off = (uint16_t)(data[i + 2] | data[i + 3] << 8);
		uint32_t v;
		uint64_t v64 = 0;

		memcpy(&v, data + i + 4, 4);
		switch (kind) {
		case 0:
			reg_write(&vm, off % 0x1100, v);
			break;
		case 1:
			io_bus_access(&vm.mmio, BASE + off % 0x1100, &v, 4, false);
			break;
		case 2:
			v64 = v;
			io_bus_access(&vm.mmio, BASE + off % 0x1100, &v64, arg % 2 ? 1 : arg % 3 ? 2 : 8, arg & 4);
			break;
		case 3:	/* guest RAM where rings and requests live */
			memcpy(vm.mem.regions[0].hva + ((uint32_t)off * 4) % 0x40000, &v, 4);
			break;
		case 4:
			loop_run_once(vm.loop, 0);
			break;
		case 5:
			legal_setup(&vm);
			break;
		}
	}
	loop_run_once(vm.loop, 0);
	return 0;
}
