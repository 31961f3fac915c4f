/* Domain XML: what vmm accepts, what it writes back, and one refusal per element kind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/domain/domain.h"

/* A domain with TOP spliced among <domain>'s children and DEVS among <devices>'. */
static char *doc(const char *top, const char *devs)
{
	char *s = NULL;

	if (asprintf(&s, "<domain type='kvm'><name>t1</name><memory unit='MiB'>128</memory>"
		     "<os><type arch='x86_64'>hvm</type><kernel>/k/vmlinux</kernel></os>%s"
		     "<devices>%s</devices></domain>", top, devs) < 0)
		abort();
	return s;
}

static int parse(const char *top, const char *devs, struct domain_def *d, struct error *e)
{
	char *x = doc(top, devs);
	int ret = domain_parse(x, strlen(x), d, e);

	free(x);
	return ret;
}

static void test_full_domain(void)
{
	struct domain_def d;
	struct error e = { 0 };
	int ret = parse("<uuid>C7A5FDBD-cdaf-9455-926a-d65c16db1809</uuid><vcpu current='2'>4</vcpu>"
			"<on_reboot>destroy</on_reboot><features><acpi/></features><clock offset='utc'/>",
			"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
			"<source file='/d/b.qcow2'/><target dev='vdb' bus='virtio'/></disk>"
			"<disk type='file'><source file='/d/a.img'/><target dev='vda'/><readonly/>"
			"<serial>S1</serial></disk>"
			"<interface type='user'><mac address='52:54:00:AB:cd:01'/>"
			"<portForward proto='udp' address='127.0.0.1'><range start='5000' end='5002' to='53'/>"
			"</portForward><portForward proto='tcp'><range start='8080'/></portForward></interface>"
			"<console type='pty'><target type='serial' port='0'/></console>"
			"<vsock model='virtio'><cid auto='no' address='7'/></vsock>"
			"<rng model='virtio'><backend model='random'>/dev/random</backend></rng>"
			"<memballoon model='none'/>", &d, &e);

	ok(ret == 0, "a full domain parses (%s)", ret ? e.msg : "ok");
	if (ret)
		return;
	ok(!strcmp(d.name, "t1") && d.memory == 128ULL << 20 && d.vcpus == 2,
	   "name, memory in MiB, the current vCPU count");
	ok(d.has_uuid && d.uuid[0] == 0xc7 && d.uuid[15] == 0x09, "uuid in either case");
	ok(d.on_reboot == DOMAIN_DESTROY && d.on_poweroff == DOMAIN_DESTROY &&
	   d.on_crash == DOMAIN_DESTROY, "lifecycle actions and their defaults");
	ok(d.ndisks == 2 && !strcmp(d.disks[0].target, "vda") && d.disks[0].read_only &&
	   d.disks[0].format == DOMAIN_DISK_RAW && !strcmp(d.disks[0].serial, "S1") &&
	   d.disks[1].format == DOMAIN_DISK_QCOW2, "disks sorted by target, raw by default");
	ok(d.nnics == 1 && d.nics[0].type == DOMAIN_NET_USER && d.nics[0].mac[3] == 0xab &&
	   d.nics[0].nforwards == 2, "user interface with MAC and two forwards");
	ok(d.nics[0].forwards[0].udp && d.nics[0].forwards[0].start == 5000 &&
	   d.nics[0].forwards[0].end == 5002 && d.nics[0].forwards[0].to == 53 &&
	   !strcmp(d.nics[0].forwards[0].address, "127.0.0.1"), "a udp range with an address");
	ok(d.nics[0].forwards[1].end == 8080 && d.nics[0].forwards[1].to == 8080,
	   "a single port forwards to the same guest port");
	ok(d.serial == DOMAIN_CHR_PTY && d.vsock && d.vsock_cid == 7 && d.rng,
	   "console as the serial port, vsock CID, rng");
	domain_free(&d);
}

static void test_round_trip(void)
{
	struct domain_def a, b;
	struct error e = { 0 };
	char *x1, *x2;

	if (parse("<metadata><m:x xmlns:m='urn:test'>a &amp; b</m:x></metadata>",
		  "<disk type='file'><source file='/d/&quot;odd&lt;.img'/><target dev='vda'/>"
		  "<backingStore type='file'><format type='qcow2'/><source file='/d/base'/>"
		  "</backingStore></disk><interface type='ethernet'><target dev='tap7' managed='no'/>"
		  "</interface><serial type='file'><source path='/tmp/c.log'/></serial>"
		  "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs' queue='1024'/>"
		  "<binary path='/usr/libexec/virtiofsd' xattr='on'><cache mode='always'/></binary>"
		  "<source dir='/srv/data'/><target dir='data'/><readonly/><alias name='fs0'/></filesystem>"
		  "<filesystem><driver type='virtiofs'/><source dir='/srv/b'/><target dir='b'/></filesystem>",
		  &a, &e)) {
		ok(0, "round trip: parse (%s)", e.msg);
		return;
	}
	x1 = domain_format(&a);
	ok(x1 && domain_parse(x1, strlen(x1), &b, &e) == 0, "what vmm writes parses again");
	x2 = x1 ? domain_format(&b) : NULL;
	ok(x1 && x2 && !strcmp(x1, x2), "and is written the same the second time");
	ok(x1 && strstr(x1, "/d/&quot;odd&lt;.img") && strstr(x1, "a &amp; b"),
	   "values and metadata stay escaped");
	ok(!strcmp(b.disks[0].backing, "/d/base") && b.disks[0].backing_format == DOMAIN_DISK_QCOW2 &&
	   !strcmp(b.nics[0].tap, "tap7") && b.serial == DOMAIN_CHR_FILE, "backing store, tap and file console kept");
	ok(b.nfs == 2 && !strcmp(b.fs[0].source, "/srv/data") && !strcmp(b.fs[0].tag, "data") &&
	   b.fs[0].read_only && !strcmp(b.fs[0].binary, "/usr/libexec/virtiofsd") &&
	   !strcmp(b.fs[1].tag, "b") && !b.fs[1].read_only && !b.fs[1].binary,
	   "virtio-fs shares kept: folder, tag, read-only, virtiofsd binary");
	ok(x1 && strstr(x1, "<access mode=\"shared\"/>"), "shares make the guest RAM shared, as libvirt wants");
	free(x1);
	free(x2);
	domain_free(&a);
	domain_free(&b);
}

/* Each refusal: the top and device fragments, and a piece of the one-line error. */
static const struct bad {
	const char *top, *devs, *want;
} bad[] = {
	{ "<uuid>nope</uuid>", "", "/domain/uuid: 'nope' is not a UUID" },
	{ "<memory unit='parsecs'>1</memory>", "", "/domain/memory[2]: unit 'parsecs' unknown" },
	{ "<memory>lots</memory>", "", "is not a memory size" },
	{ "<maxMemory slots='4'>1</maxMemory>", "", "/domain/maxMemory: memory hotplug" },
	{ "<vcpu>0</vcpu>", "", "/domain/vcpu: '0' is not a vCPU count" },
	{ "<vcpu>33</vcpu>", "", "is not a vCPU count from 1 to 32" },
	{ "<on_reboot>preserve</on_reboot>", "", "/domain/on_reboot: 'preserve' is not supported" },
	{ "<on_crash>coredump-destroy</on_crash>", "", "/domain/on_crash" },
	{ "<sysinfo type='smbios'/>", "", "/domain/sysinfo: not supported by vmm" },
	{ "", "<disk type='block'><source dev='/dev/sda'/><target dev='vda'/></disk>",
	  "/domain/devices/disk: vmm takes disk images as files" },
	{ "", "<disk type='file' device='cdrom'><source file='/x.iso'/><target dev='vda'/></disk>",
	  "only device='disk'" },
	{ "", "<disk type='file'><driver type='vmdk'/><source file='/x'/><target dev='vda'/></disk>",
	  "/domain/devices/disk/driver: format 'vmdk' is not supported" },
	{ "", "<disk type='file'><target dev='vda'/></disk>", "give <source file='PATH'/>" },
	{ "", "<disk type='file'><source file='/x'/><target dev='sda' bus='sata'/></disk>",
	  "/domain/devices/disk/target: bus 'sata'" },
	{ "", "<disk type='file'><source file='/x'/><target dev='vdz'/></disk>", "dev 'vdz': use vda to vdh" },
	{ "", "<disk type='file'><source file='/x'/><target dev='vda'/></disk>"
	      "<disk type='file'><source file='/y'/><target dev='vda'/></disk>",
	  "/domain/devices/disk[2]: target vda is used twice" },
	{ "", "<disk type='file'><source file='/x'/><target dev='vda'/>"
	      "<serial>012345678901234567890</serial></disk>", "/domain/devices/disk/serial: at most 20 bytes" },
	{ "", "<disk type='file'><source file='/x'/><target dev='vda'/><encryption format='luks'/></disk>",
	  "/domain/devices/disk/encryption: not supported" },
	{ "", "<disk type='file'><source file='/x'/><target dev='vda'/><backingStore type='file'>"
	      "<format type='raw'/></backingStore></disk>", "/domain/devices/disk/backingStore: give <source" },
	{ "", "<interface type='bridge'><source bridge='br0'/></interface>",
	  "/domain/devices/interface: interface type not supported" },
	{ "", "<interface type='user'/><interface type='user'/>", "/domain/devices/interface[2]: vmm gives a VM one" },
	{ "", "<interface type='user'><model type='e1000'/></interface>", "/domain/devices/interface/model: vmm has virtio" },
	{ "", "<interface type='user'><mac address='01:00:5e:00:00:01'/></interface>", "not a unicast MAC" },
	{ "", "<interface type='user'><mac address='52:54:00:00:00'/></interface>", "not a unicast MAC" },
	{ "", "<interface type='user'><portForward proto='sctp'><range start='1'/></portForward></interface>",
	  "/domain/devices/interface/portForward: proto 'sctp'" },
	{ "", "<interface type='user'><portForward proto='tcp'><range start='70000'/></portForward></interface>",
	  "/domain/devices/interface/portForward/range: start='70000' is not a port" },
	{ "", "<interface type='user'><portForward proto='tcp'><range start='90' end='80'/></portForward></interface>",
	  "end 80 is below start 90" },
	{ "", "<interface type='user'><portForward proto='tcp'><range start='90' exclude='yes'/></portForward></interface>",
	  "exclude='...' is not supported" },
	{ "", "<interface type='user'><portForward proto='tcp'><range start='65000' end='65010' to='65530'/>"
	      "</portForward></interface>", "run past 65535" },
	{ "", "<interface type='ethernet'><mac address='52:54:00:00:00:01'/></interface>", "give <target dev='TAP'/>" },
	{ "", "<interface type='ethernet'><target dev='tap0' managed='yes'/></interface>", "managed='no'" },
	{ "", "<interface type='ethernet'><target dev='tap0'/><portForward proto='tcp'/></interface>",
	  "port forwards need type='user'" },
	{ "", "<serial type='tcp'><source mode='bind' host='0' service='1'/></serial>",
	  "/domain/devices/serial: type not supported" },
	{ "", "<serial type='pty'><target port='1'/></serial>", "one serial port" },
	{ "", "<serial type='file'/>", "give <source path='FILE'/>" },
	{ "", "<console type='pty'><target type='virtio'/></console>", "/domain/devices/console: target type 'virtio'" },
	{ "", "<vsock model='virtio'><cid auto='no' address='2'/></vsock>", "/domain/devices/vsock: cid '2'" },
	{ "", "<rng model='virtio'><backend model='egd' type='tcp'/></rng>", "backend model 'egd'" },
	{ "", "<rng model='virtio-transitional'/>", "/domain/devices/rng: model must be virtio" },
	{ "", "<hostdev mode='subsystem' type='pci'/>", "/domain/devices/hostdev: PCI and USB passthrough" },
	{ "", "<graphics type='vnc'/>", "/domain/devices/graphics: vmm has no display" },
	{ "", "<filesystem type='block'><driver type='virtiofs'/><source dir='/s'/><target dir='t'/></filesystem>",
	  "/domain/devices/filesystem: vmm shares host folders (type='mount')" },
	{ "", "<filesystem accessmode='mapped'><driver type='virtiofs'/><source dir='/s'/><target dir='t'/></filesystem>",
	  "accessmode='passthrough'" },
	{ "", "<filesystem type='mount'><driver type='path'/><source dir='/s'/><target dir='t'/></filesystem>",
	  "/domain/devices/filesystem/driver: vmm shares folders over virtio-fs only" },
	{ "", "<filesystem type='mount'><source dir='/s'/><target dir='t'/></filesystem>",
	  "give <driver type='virtiofs'/> (vmm has no 9p)" },
	{ "", "<filesystem><driver type='virtiofs'/><source dir='rel'/><target dir='t'/></filesystem>",
	  "/domain/devices/filesystem/source: give dir='/ABSOLUTE/PATH'" },
	{ "", "<filesystem><driver type='virtiofs'/><target dir='t'/></filesystem>", "give <source dir='/PATH'/>" },
	{ "", "<filesystem><driver type='virtiofs'/><source dir='/s'/>"
	      "<target dir='0123456789012345678901234567890123456'/></filesystem>", "(1 to 36 bytes)" },
	{ "", "<filesystem><driver type='virtiofs'/><source dir='/s'/></filesystem>", "give <target dir='TAG'/>" },
	{ "", "<filesystem><driver type='virtiofs'/><binary path='virtiofsd'/><source dir='/s'/>"
	      "<target dir='t'/></filesystem>", "/domain/devices/filesystem/binary: path 'virtiofsd'" },
	{ "", "<filesystem><driver type='virtiofs'/><source dir='/s'/><target dir='t'/></filesystem>"
	      "<filesystem><driver type='virtiofs'/><source dir='/u'/><target dir='t'/></filesystem>",
	  "/domain/devices/filesystem[2]: tag t is used twice" },
	{ "", "<filesystem><driver type='virtiofs'/><source dir='/s'/><target dir='t'/><space_hard_limit>1</space_hard_limit>"
	      "</filesystem>", "/domain/devices/filesystem/space_hard_limit: not supported" },
	{ "", "<teleporter/>", "/domain/devices/teleporter: not supported by vmm" },
};

static void test_refusals(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct domain_def d;
		struct error e = { 0 };
		int ret = parse(bad[i].top, bad[i].devs, &d, &e);

		ok(ret == -EINVAL && strstr(e.msg, bad[i].want), "refused with '%s' (got: %s)",
		   bad[i].want, ret ? e.msg : "accepted");
		if (!ret)
			domain_free(&d);
	}
}

static void expect_doc(const char *xml, const char *want)
{
	struct domain_def d;
	struct error e = { 0 };
	int ret = domain_parse(xml, strlen(xml), &d, &e);

	ok(ret < 0 && strstr(e.msg, want), "document refused with '%s' (got: %s)", want,
	   ret ? e.msg : "accepted");
	if (!ret)
		domain_free(&d);
}

static void test_documents(void)
{
	char *big = malloc(DOMAIN_XML_MAX + 2);

	expect_doc("<domain type='kvm'><name>x</name>", "not well-formed XML");
	expect_doc("", "not well-formed XML");
	expect_doc("<!DOCTYPE domain [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]>"
		   "<domain type='kvm'><name>&b;</name></domain>", "<!DOCTYPE> is refused");
	expect_doc("<!DOCTYPE domain SYSTEM 'http://example.invalid/x.dtd'><domain type='kvm'/>",
		   "<!DOCTYPE> is refused");
	expect_doc("<network><name>x</name></network>", "/network: not a libvirt domain");
	expect_doc("<domain type='qemu'><name>x</name></domain>", "/domain: type 'qemu'");
	expect_doc("<domain type='kvm'><memory>1024</memory><os><kernel>/k</kernel></os></domain>",
		   "/domain: give <name>");
	expect_doc("<domain type='kvm'><name>a/b</name></domain>", "/domain/name: 'a/b'");
	expect_doc("<domain type='kvm'><name>x</name><os><kernel>/k</kernel></os></domain>",
		   "give <memory");
	expect_doc("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type>"
		   "</os></domain>", "give <os><kernel>");
	expect_doc("<domain type='kvm'><name>x</name><memory>1024</memory><os><type arch='aarch64'>"
		   "hvm</type><kernel>/k</kernel></os></domain>", "/domain/os/type: arch 'aarch64'");
	expect_doc("<domain type='kvm'><name>x</name><memory>1024</memory><os><loader>/fw</loader>"
		   "</os></domain>", "/domain/os/loader: firmware and container boot");
	expect_doc("<domain type='kvm'><name>x</name><memory>1024</memory><os firmware='efi'>"
		   "<kernel>/k</kernel></os></domain>", "firmware='...' is not supported");
	if (big) {
		memset(big, ' ', DOMAIN_XML_MAX + 1);
		big[DOMAIN_XML_MAX + 1] = 0;
		expect_doc(big, "at most");
		free(big);
	}
}

static void test_names_and_uuids(void)
{
	uint8_t u[16];
	char s[37];
	struct domain_def d = { 0 };

	ok(domain_name_valid("web-1.a_b+c") && !domain_name_valid(".x") && !domain_name_valid("-x") &&
	   !domain_name_valid("a b") && !domain_name_valid("") &&
	   !domain_name_valid("x123456789012345678901234567890123456789012345678901234567890123456"),
	   "domain names: allowed characters and length");
	ok(domain_uuid_parse("c7a5fdbdcdaf9455926ad65c16db1809", u) == 0 && u[1] == 0xa5,
	   "a UUID without dashes");
	ok(domain_uuid_parse("c7a5fdbd-cdaf-9455-926a-d65c16db180", u) < 0 &&
	   domain_uuid_parse("c7a5fdbd-cdaf-9455-926a_d65c16db1809", u) < 0 &&
	   domain_uuid_parse("g7a5fdbd-cdaf-9455-926a-d65c16db1809", u) < 0, "bad UUIDs refused");
	ok(domain_uuid_generate(&d) == 0 && (d.uuid[6] >> 4) == 4 && (d.uuid[8] & 0xc0) == 0x80,
	   "generated UUIDs are version 4");
	domain_uuid_format(d.uuid, s);
	ok(strlen(s) == 36 && domain_uuid_parse(s, u) == 0 && !memcmp(u, d.uuid, 16),
	   "a formatted UUID parses back");
}

int main(void)
{
	test_full_domain();
	test_round_trip();
	test_refusals();
	test_documents();
	test_names_and_uuids();
	return tap_done();
}
