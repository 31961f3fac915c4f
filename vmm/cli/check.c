/* vmm check: what this host offers for running vmm, one line per item. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/domain/libvirt-conn.h"
#include "vmm/machine/machine.h"
#include "vmm/kvm.h"
#include "vmm/base/util.h"

enum check_status { CHECK_OK, CHECK_WARN, CHECK_FAIL };

struct report {
	bool json;
	bool failed;
	json_object *items;
};

static void item(struct report *r, enum check_status st, const char *name,
		 const char *detail, const char *fix)
{
	static const char *const names[] = { "ok", "warn", "fail" };

	if (st == CHECK_FAIL)
		r->failed = true;
	if (r->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "item", json_object_new_string(name));
		json_object_object_add(o, "status", json_object_new_string(names[st]));
		json_object_object_add(o, "detail", json_object_new_string(detail));
		if (fix)
			json_object_object_add(o, "fix", json_object_new_string(fix));
		json_object_array_add(r->items, o);
		return;
	}
	printf("%-5s %-22s %s%s%s\n", names[st], name, detail, fix ? " -- " : "", fix ? fix : "");
}

static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool cpu_has_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[8192];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (!str_has_prefix(line, "flags"))
			continue;
		for (char *tok = strtok(line, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
			if (!strcmp(tok, flag))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

static void check_kvm(struct report *r)
{
	const char *why, *cap;
	char detail[256];
	int fd;

	fd = kvm_open(&why, &cap);
	if (fd < 0) {
		if (fd == -ENOENT || fd == -EACCES) {
			item(r, CHECK_FAIL, "/dev/kvm", fd == -ENOENT ? "missing" : "no read-write access", why);
			return;
		}
		snprintf(detail, sizeof(detail), "%s%s%s", why, cap ? ": " : "", cap ? cap : "");
		item(r, CHECK_FAIL, "kvm api", detail, "upgrade the host kernel (vmm needs Linux >= 4.14 KVM)");
		return;
	}
	item(r, CHECK_OK, "/dev/kvm", "present, read-write", NULL);
	snprintf(detail, sizeof(detail), "version %d, %u required capabilities present",
		 ioctl(fd, KVM_GET_API_VERSION, 0), kvm_required_caps_count);
	item(r, CHECK_OK, "kvm api", detail, NULL);
	close(fd);
}

static void check_cpu(struct report *r)
{
	char buf[64];
	bool vmx = cpu_has_flag("vmx"), svm = cpu_has_flag("svm");
	bool pvm = kvm_host_is_pvm();

	if (vmx || svm)
		item(r, CHECK_OK, "cpu virtualization", vmx ? "vmx (Intel VT-x)" : "svm (AMD-V)", NULL);
	else if (pvm && access("/dev/kvm", F_OK) && !kvm_device_registered())
		item(r, CHECK_FAIL, "cpu virtualization", "no vmx/svm flag, and kvm_pvm provides no /dev/kvm",
		     "see the /dev/kvm line");
	else if (pvm)
		item(r, CHECK_OK, "cpu virtualization", "no vmx/svm flag, KVM provided by kvm_pvm", NULL);
	else
		item(r, CHECK_WARN, "cpu virtualization", "no vmx/svm flag in /proc/cpuinfo",
		     "enable VT-x/AMD-V in the firmware, or nested virtualization on the outer hypervisor");

	if (read_line("/sys/module/kvm_intel/parameters/nested", buf, sizeof(buf)) ||
	    read_line("/sys/module/kvm_amd/parameters/nested", buf, sizeof(buf))) {
		bool on = buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';

		item(r, CHECK_OK, "nested virtualization", on ? "enabled" : "disabled (only matters to run VMs inside vmm guests)", NULL);
	} else {
		item(r, CHECK_OK, "nested virtualization", "not applicable (kvm_intel/kvm_amd not loaded)", NULL);
	}

	if (pvm)
		item(r, CHECK_WARN, "pvm host", "KVM is the nested PVM implementation: guest kernels run "
		     "through an instruction emulator; boots take seconds and host quirks are applied",
		     "use hardware KVM (VT-x/AMD-V or nested VMX/SVM) for full speed");
	else
		item(r, CHECK_OK, "pvm host", "no (hardware KVM, no quirks needed)", NULL);
}

static void check_host(struct report *r)
{
	char path[4096];
	int fd;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		item(r, CHECK_OK, "cgroup v2", "unified hierarchy at /sys/fs/cgroup", NULL);
	else if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
		item(r, CHECK_WARN, "cgroup v2", "hybrid mode (v1 controllers plus unified hierarchy)",
		     "only affects host-side limits; guests use their own cgroup v2");
	else
		item(r, CHECK_WARN, "cgroup v2", "not mounted",
		     "only affects host-side limits; guests use their own cgroup v2");

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		item(r, CHECK_OK, "/dev/net/tun", "available (--network tap:NAME)", NULL);
	} else {
		item(r, CHECK_WARN, "/dev/net/tun", strerror(errno),
		     "needed only for --network tap: modprobe tun, and access to /dev/net/tun");
	}
	if (machine_find_virtiofsd(NULL, path, sizeof(path), NULL) == 0) {
		char found[4200];

		snprintf(found, sizeof(found), "%s (%s)", path, machine_virtiofsd_kind(path));
		item(r, CHECK_OK, "virtiofsd", found, NULL);
	} else
		item(r, CHECK_WARN, "virtiofsd", "not found",
		     "needed only for shared folders: apt-get install qemu-system-common, or $VMM_VIRTIOFSD");
}

/* Optional: only domain define --from-libvirt and export --to-libvirt need it. */
static void check_libvirt(struct report *r)
{
	char version[32], detail[64];

	if (domain_libvirt_version(version, sizeof(version), NULL) == 0) {
		snprintf(detail, sizeof(detail), "linked (libvirt %s)", version);
		item(r, CHECK_OK, "libvirt", detail, NULL);
	} else {
		item(r, CHECK_WARN, "libvirt", "not built in",
		     "needed only for vmm domain --from-libvirt/--to-libvirt: apt-get install libvirt-dev, rebuild vmm");
	}
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report r = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			r.json = true;
			break;
		case 'h':
			printf("Usage: vmm check [--json]\n\n"
			       "Report /dev/kvm access, KVM API and capabilities, CPU virtualization\n"
			       "flags, nested virtualization, PVM host detection, cgroup v2 and\n"
			       "/dev/net/tun, virtiofsd and libvirt support. Exits 0 when vmm can\n"
			       "run VMs on this host.\n");
			return 0;
		default:
			return cli_bad_option("check", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);

	if (r.json)
		r.items = json_object_new_array();
	check_kvm(&r);
	check_cpu(&r);
	check_host(&r);
	check_libvirt(&r);
	if (r.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(!r.failed));
		json_object_object_add(o, "items", r.items);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("%s\n", r.failed ? "vmm cannot run VMs on this host (see 'fail' lines)"
					: "vmm can run VMs on this host");
	}
	return r.failed ? 1 : 0;
}
