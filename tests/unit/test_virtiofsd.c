/* Which virtiofsd a binary is: decided on its --help, the path only as the fallback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtiofsd.h"
#include "tests/unit/tap.h"

static const char qemu_help[] = "usage: virtiofsd [options]\n    -o source=PATH             shared directory tree\n";
static const char rust_help[] = "Usage: virtiofsd [OPTIONS]\n      --shared-dir <SHARED_DIR>  Shared directory path\n";

static void test_help_decides(void)
{
	ok(virtiofsd_flavour_of(rust_help, "/usr/lib/qemu/virtiofsd") == VIRTIOFSD_RUST,
	   "the Rust one's help wins over a /qemu/ path");
	ok(virtiofsd_flavour_of(qemu_help, "/opt/virtiofsd") == VIRTIOFSD_QEMU,
	   "QEMU's help wins over a path without /qemu/");
}

static void test_path_fallback(void)
{
	ok(virtiofsd_flavour_of(NULL, "/usr/lib/qemu/virtiofsd") == VIRTIOFSD_QEMU, "no help: /qemu/ in the path is QEMU's");
	ok(virtiofsd_flavour_of("", "/usr/libexec/virtiofsd") == VIRTIOFSD_RUST, "no help: otherwise the Rust one");
	ok(virtiofsd_probe("/nonexistent/qemu/virtiofsd") == VIRTIOFSD_QEMU,
	   "a binary that cannot run: the path decides, and the probe returns");
}

/* A fake daemon in a private folder: the probe runs it and reads what it prints. */
static void test_probe_runs_it(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], sub[4200], path[4300];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/vmm-test-virtiofsd.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp %s", dir);
		return;
	}
	snprintf(sub, sizeof(sub), "%s/qemu", dir);
	snprintf(path, sizeof(path), "%s/virtiofsd", sub);
	if (mkdir(sub, 0700) == 0 && (f = fopen(path, "w"))) {
		fprintf(f, "#!/bin/sh\necho '      --shared-dir <SHARED_DIR>'\n");
		fclose(f);
		chmod(path, 0755);
	}
	ok(virtiofsd_probe(path) == VIRTIOFSD_RUST, "a Rust-style help under a /qemu/ path: the Rust one");
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	test_help_decides();
	test_path_fallback();
	test_probe_runs_it();
	return tap_done();
}
