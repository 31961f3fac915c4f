/* vmm boot: boot a kernel directly; the low-level command for tests and guest debugging. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/options.h"
#include "vmm/confine.h"
#include "vmm/machine/machine.h"

static void usage(void)
{
	printf("Usage: vmm boot --kernel VMLINUX [OPTIONS]\n\n"
	       "Boot a kernel directly in a micro-VM. vmm exits with the status the guest\n"
	       "writes to the exit device (0 on a plain power-off or reboot), 125 when the\n"
	       "guest panics or crashes, 128+N when stopped by signal N.\n\n"
	       "Options:\n"
	       "  --kernel FILE         uncompressed ELF vmlinux (make kernel: build/vmlinux)\n"
	       "  --initrd FILE         initramfs (uncompressed cpio is fastest)\n"
	       "  --cmdline STRING      extra kernel parameters, appended to vmm's own\n"
	       "  -m, --memory SIZE     guest RAM, MiB or with a unit (default 128)\n"
	       "  --cpus N              vCPUs (default 1)\n"
	       "  --console FILE        write the guest console to FILE instead of stdout\n"
	       "  --disk PATH[,format=raw|qcow2][,ro][,serial=S]\n"
	       "                        a virtio-blk disk (repeatable; the first is /dev/vda)\n"
	       "  --allow-unsafe-backing  follow backing files outside an image's directory\n"
	       "  --host-quirks MODE    auto (default), on or off: PVM host workarounds\n"
	       "  --vsock PATH          add a virtio-vsock device; host programs reach guest\n"
	       "                        port P by connecting to the unix socket PATH and\n"
	       "                        sending \"CONNECT P\\n\"; guest connections to host port\n"
	       "                        P go to the unix socket PATH_P (docs/vsock.md)\n"
	       "  --vsock-cid N         the guest's vsock CID (default 3)\n"
	       "  --share DIR[,tag=TAG][,ro]\n"
	       "                        share a host folder over virtio-fs (repeatable); the\n"
	       "                        guest mounts it with mount -t virtiofs TAG /mnt (the\n"
	       "                        default TAG is shareN); ro is enforced on the host\n"
	       "  --virtiofsd PATH      the virtiofsd to serve shares (default: found in\n"
	       "                        /usr/libexec or /usr/lib/qemu, or $VMM_VIRTIOFSD)\n");
}

/* The daemon to use, and a socket for each share in the runtime dir. */
static int share_setup(struct cli *cli, struct machine_share_config *shares, unsigned n,
		       char socks[][108], char *fsd, size_t fsd_len, const char *virtiofsd, struct error *e)
{
	int ret = machine_find_virtiofsd(virtiofsd, fsd, fsd_len, e);

	if (ret)
		return ret;
	if ((ret = mkdir_p(AT_FDCWD, cli->paths.runtime, 0700)))
		return err_sys(e, ret, "runtime directory %s", cli->paths.runtime);
	for (unsigned i = 0; i < n; i++) {
		if ((size_t)snprintf(socks[i], 108, "%s/boot-%d-fs%u.sock", cli->paths.runtime, (int)getpid(), i) >= 108)
			return err_set(e, -ENAMETOOLONG, "runtime directory %s: too long for a socket path",
				       cli->paths.runtime);
		shares[i].socket_path = socks[i];
		shares[i].virtiofsd = fsd;
	}
	return 0;
}

/* What the VMM keeps once confined (docs/sandbox.md): its sockets' folders. */
struct keep {
	struct confine_vmm c;
	const char *dirs[3];
	char vsock_dir[4096];
};

static int plan_confine(struct cli *cli, struct machine_config *cfg, struct keep *k, struct error *e)
{
	enum confine_mode mode;
	unsigned n = 0;
	int ret = confine_mode(&mode, e);

	if (ret || mode == CONFINE_OFF)
		return ret;
	if (cfg->nshares)
		k->dirs[n++] = cli->paths.runtime;
	if (cfg->vsock) {	/* the guest's connections go to PATH_PORT beside it */
		snprintf(k->vsock_dir, sizeof(k->vsock_dir), "%s", cfg->vsock->uds_path);
		k->dirs[n++] = dirname(k->vsock_dir);
	}
	k->c = (struct confine_vmm){
		.who = "vmm boot", .dirs = k->dirs, .loop = { .log = mode == CONFINE_LOG },
	};
	cfg->confine = confine_vmm_hook;
	cfg->confine_opaque = &k->c;
	return 0;
}

int cmd_boot(struct cli *cli, int argc, char **argv)
{
	enum { OPT_DISK = 256, OPT_UNSAFE_BACKING, OPT_VSOCK, OPT_VSOCK_CID, OPT_SHARE, OPT_VIRTIOFSD };
	static const struct option opts[] = {
		OPT_VM_LONG_OPTIONS,
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "allow-unsafe-backing", no_argument, NULL, OPT_UNSAFE_BACKING },
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "vsock-cid", required_argument, NULL, OPT_VSOCK_CID },
		{ "share", required_argument, NULL, OPT_SHARE },
		{ "virtiofsd", required_argument, NULL, OPT_VIRTIOFSD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct machine_config cfg = {
		.name = "boot", .mem_size = 128 * MiB, .ncpus = 1, .quirks = QUIRKS_AUTO,
		.console_fd = STDOUT_FILENO, .console_input = true,
	};
	const char *console_path = NULL, *bad;
	struct disk_spec disks[MACHINE_MAX_DISKS];
	struct machine_disk_config dcfg[MACHINE_MAX_DISKS];
	unsigned ndisks = 0;
	bool unsafe_backing = false;
	struct machine_vsock_config vcfg = { .guest_cid = 0 };
	bool want_vsock = false;
	struct machine_share_config shares[MACHINE_MAX_SHARES];
	char tags[MACHINE_MAX_SHARES][16], socks[MACHINE_MAX_SHARES][108], fsd[4096];
	const char *virtiofsd = NULL;
	unsigned nshares = 0;
	struct machine *m = NULL;
	struct keep keep = { 0 };
	struct error e = { 0 };
	uint64_t v;
	int c, ret, status;

	while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (opt_vm("boot", c, optarg, &cfg, &console_path)) {
		case 1:
			continue;
		case EXIT_VMM_ERROR:
			return EXIT_VMM_ERROR;
		}
		switch (c) {
		case OPT_DISK:
			if (ndisks == MACHINE_MAX_DISKS)
				return cli_usage_error("boot", "at most %d --disk options", MACHINE_MAX_DISKS);
			if (opt_parse_disk(optarg, &disks[ndisks], &bad))
				return cli_usage_error("boot", "--disk: bad part '%s' (use PATH[,format=raw|qcow2][,ro][,serial=S], serial up to 20 bytes)", bad);
			ndisks++;
			break;
		case OPT_UNSAFE_BACKING:
			unsafe_backing = true;
			break;
		case OPT_VSOCK:
			vcfg.uds_path = optarg;
			want_vsock = true;
			break;
		case OPT_VSOCK_CID:
			if (parse_uint(optarg, 3, 0xfffffffeULL, &v))
				return cli_usage_error("boot", "--vsock-cid %s: not a number from 3 to 4294967294", optarg);
			vcfg.guest_cid = v;
			want_vsock = true;
			break;
		case OPT_SHARE:
			if (nshares == MACHINE_MAX_SHARES)
				return cli_usage_error("boot", "at most %d --share options", MACHINE_MAX_SHARES);
			snprintf(tags[nshares], sizeof(tags[nshares]), "share%u", nshares);
			shares[nshares] = (struct machine_share_config){ .tag = tags[nshares] };
			if (opt_parse_share(optarg, &shares[nshares], &bad))
				return cli_usage_error("boot", "--share: bad part '%s' (use DIR[,tag=TAG][,ro], "
						       "TAG up to 36 bytes)", bad);
			nshares++;
			break;
		case OPT_VIRTIOFSD:
			virtiofsd = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("boot", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("boot", "unexpected argument '%s'", argv[optind]);
	if (!cfg.kernel)
		return cli_usage_error("boot", "--kernel is required (`make kernel` builds build/vmlinux)");
	cfg.shares = shares;
	cfg.nshares = nshares;
	if (machine_validate(&cfg, &e)) {
		err_print(&e);
		return EXIT_VMM_ERROR;
	}

	if (console_path) {
		cfg.console_fd = open(console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (cfg.console_fd < 0) {
			pr_err("--console %s: %s", console_path, strerror(errno));
			return EXIT_VMM_ERROR;
		}
	}
	for (unsigned i = 0; i < ndisks; i++)
		dcfg[i] = (struct machine_disk_config){
			.path = disks[i].path, .format = disks[i].format, .read_only = disks[i].read_only,
			.serial = disks[i].serial, .allow_unsafe_backing = unsafe_backing,
		};
	cfg.disks = dcfg;
	cfg.ndisks = ndisks;
	cfg.vsock = want_vsock ? &vcfg : NULL;
	if ((nshares && share_setup(cli, shares, nshares, socks, fsd, sizeof(fsd), virtiofsd, &e)) ||
	    plan_confine(cli, &cfg, &keep, &e)) {
		err_print(&e);
		return EXIT_VMM_ERROR;
	}
	ret = machine_create(&cfg, &m, &e);
	if (!ret)
		ret = machine_boot(m, &e);
	if (ret) {
		err_print(&e);
		machine_destroy(m);
		return EXIT_VMM_ERROR;
	}
	machine_wait(m);
	status = machine_report(m);
	machine_destroy(m);
	if (console_path)
		close(cfg.console_fd);
	return status;
}
