/* Kernel command line building and the size parsers behind --memory/--cpus. */
#include <errno.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/cli/options.h"
#include "vmm/cmdline.h"
#include "vmm/base/util.h"

static struct cmdline c;

static void test_join(void)
{
	cmdline_init(&c);
	cmdline_add(&c, "console=ttyS0 quiet");
	cmdline_add(&c, "virtio_mmio.device=4K@0x%x:%u", 0xd0001000, 5);
	cmdline_add(&c, "%s", "");
	ok(!strcmp(c.buf, "console=ttyS0 quiet virtio_mmio.device=4K@0xd0001000:5"), "parameters joined by single spaces");
	ok(c.len == strlen(c.buf) && !c.overflow, "length tracked, no overflow");
	ok(cmdline_has(&c, "quiet") && cmdline_has(&c, "console") && cmdline_has(&c, "virtio_mmio.device"),
	   "cmdline_has finds bare and key=value parameters");
	ok(!cmdline_has(&c, "consol") && !cmdline_has(&c, "ttyS0"), "cmdline_has matches whole keys only");
}

static void test_overflow(void)
{
	char big[CMDLINE_MAX + 10];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cmdline_add(&c, "%s", big);
	ok(c.overflow, "an over-long addition sets overflow");
	ok(!strcmp(c.buf, "console=ttyS0 quiet virtio_mmio.device=4K@0xd0001000:5"), "and leaves the line intact");
	cmdline_init(&c);
	big[CMDLINE_MAX - 1] = '\0';
	cmdline_add(&c, "%s", big);
	ok(!c.overflow && c.len == CMDLINE_MAX - 1, "exactly 2047 bytes fit");
	cmdline_add(&c, "a");
	ok(c.overflow, "one more parameter does not");
}

static void test_memory(void)
{
	uint64_t v;

	ok(opt_parse_memory("256", &v) == 0 && v == 256 * MiB, "--memory 256 means MiB");
	ok(opt_parse_memory("1G", &v) == 0 && v == GiB, "--memory 1G");
	ok(opt_parse_memory("512m", &v) == 0 && v == 512 * MiB, "--memory 512m");
	ok(opt_parse_memory("64MiB", &v) == 0 && v == 64 * MiB, "--memory 64MiB");
	ok(opt_parse_memory("lots", &v) == -EINVAL && opt_parse_memory("-5", &v) == -EINVAL &&
	   opt_parse_memory("12Q", &v) == -EINVAL && opt_parse_memory("", &v) == -EINVAL, "bad sizes refused");
	ok(opt_parse_memory("99999999999999999999", &v) == -EINVAL, "overflowing size refused");
	ok(parse_size("17179869184T", 1, &v) == -ERANGE, "size overflow on the unit multiply");
}

static void test_cpus_and_quirks(void)
{
	enum quirks_mode q;
	unsigned n;

	ok(opt_parse_cpus("2", &n) == 0 && n == 2, "--cpus 2");
	ok(opt_parse_cpus("0", &n) && opt_parse_cpus("33", &n) && opt_parse_cpus("1.5", &n) &&
	   opt_parse_cpus("two", &n), "bad CPU counts refused");
	ok(opt_parse_quirks("auto", &q) == 0 && q == QUIRKS_AUTO && opt_parse_quirks("on", &q) == 0 &&
	   q == QUIRKS_ON && opt_parse_quirks("off", &q) == 0 && q == QUIRKS_OFF &&
	   opt_parse_quirks("maybe", &q) == -EINVAL, "--host-quirks values");
}

int main(void)
{
	test_join();
	test_overflow();	/* on test_join's line */
	test_memory();
	test_cpus_and_quirks();
	return tap_done();
}
