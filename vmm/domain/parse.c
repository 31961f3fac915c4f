/*
 * Domain XML in: libxml2 reads it (no network, no DTD, no entity expansion),
 * then one handler per element checks it into a struct domain_def. An element
 * vmm cannot honour is refused with its XPath and the reason; an element that
 * changes nothing for a direct-boot micro-VM is passed over with a debug line.
 */
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/domain/domain.h"
#include "vmm/domain/parse-internal.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/vm.h"

/* --- <memory>, <vcpu> --- */

static const struct { const char *unit; uint64_t scale; } units[] = {
	{ "b", 1 }, { "bytes", 1 },
	{ "KB", 1000ULL }, { "k", KiB }, { "KiB", KiB },
	{ "MB", 1000000ULL }, { "M", MiB }, { "MiB", MiB },
	{ "GB", 1000000000ULL }, { "G", GiB }, { "GiB", GiB },
	{ "TB", 1000000000000ULL }, { "T", 1024 * GiB }, { "TiB", 1024 * GiB },
};

static int parse_memory(struct parse *p, const xmlNode *n, uint64_t *bytes)
{
	char *unit = dx_attr(n, "unit"), *t = dx_text(n);
	uint64_t scale = 0, v;
	int ret = 0;

	if (!unit)
		scale = KiB;	/* libvirt's default */
	for (size_t i = 0; unit && i < ARRAY_SIZE(units); i++)
		if (!strcmp(unit, units[i].unit))
			scale = units[i].scale;
	if (!scale)
		ret = dx_refuse(p, n, "unit '%s' unknown (use KiB, MiB, GiB, ...)", unit);
	else if (!t || parse_uint(t, 1, UINT64_MAX / scale, &v))
		ret = dx_refuse(p, n, "'%s' is not a memory size", t ? t : "");
	else
		*bytes = v * scale;
	xmlFree(unit);
	free(t);
	return ret;
}

static int parse_vcpu(struct parse *p, const xmlNode *n)
{
	char *t = dx_text(n), *current = dx_attr(n, "current");
	uint64_t v;
	int ret = 0;

	/* current: the vCPUs online at boot; vmm boots exactly those (no hotplug). */
	if (parse_uint(current ? current : t ? t : "", 1, VM_MAX_CPUS, &v))
		ret = dx_refuse(p, n, "'%s' is not a vCPU count from 1 to %d",
			     current ? current : t ? t : "", VM_MAX_CPUS);
	else
		p->d->vcpus = v;
	xmlFree(current);
	free(t);
	return ret;
}

static int parse_action(struct parse *p, const xmlNode *n, enum domain_action *a)
{
	char *t = dx_text(n);
	int ret = 0;

	if (t && !strcmp(t, "destroy"))
		*a = DOMAIN_DESTROY;
	else if (t && !strcmp(t, "restart"))
		*a = DOMAIN_RESTART;
	else
		ret = dx_refuse(p, n, "'%s' is not supported by vmm (use destroy or restart)", t ? t : "");
	free(t);
	return ret;
}

/* --- <os> --- */

static int parse_os(struct parse *p, const xmlNode *os)
{
	struct domain_def *d = p->d;
	int ret = 0;

	for (const xmlNode *n = os->children; n && !ret; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (dx_is(n, "type")) {
			char *arch = dx_attr(n, "arch"), *t = dx_text(n);

			if (arch && strcmp(arch, "x86_64"))
				ret = dx_refuse(p, n, "arch '%s': vmm runs x86_64 guests", arch);
			else if (!t || strcmp(t, "hvm"))
				ret = dx_refuse(p, n, "'%s': vmm runs hvm guests", t ? t : "");
			xmlFree(arch);
			free(t);
		} else if (dx_is(n, "kernel")) {
			ret = dx_take_text(p, n, &d->kernel);
		} else if (dx_is(n, "initrd")) {
			ret = dx_take_text(p, n, &d->initrd);
		} else if (dx_is(n, "cmdline")) {
			free(d->cmdline);
			d->cmdline = dx_text(n);	/* may be empty */
		} else if (dx_is(n, "loader") || dx_is(n, "nvram") || dx_is(n, "init") || dx_is(n, "dtb")) {
			ret = dx_refuse(p, n, "firmware and container boot are not supported: vmm boots a "
				     "kernel directly (give <kernel> and <initrd>)");
		} else if (dx_is(n, "boot") || dx_is(n, "bootmenu") || dx_is(n, "smbios") || dx_is(n, "bios") ||
			   dx_is(n, "acpi")) {
			dx_pass_over(n, "no firmware: the kernel is booted directly");
		} else {
			ret = dx_refuse(p, n, "not supported by vmm");
		}
	}
	if (!ret && dx_has_attr(os, "firmware"))
		ret = dx_refuse(p, os, "firmware='...' is not supported: vmm boots a kernel directly");
	return ret;
}

/* --- <disk> --- */

static int disk_format(struct parse *p, const xmlNode *n, const char *type, enum domain_disk_format *f)
{
	if (!type || !strcmp(type, "raw"))
		*f = DOMAIN_DISK_RAW;	/* libvirt's default too */
	else if (!strcmp(type, "qcow2"))
		*f = DOMAIN_DISK_QCOW2;
	else
		return dx_refuse(p, n, "format '%s' is not supported (raw or qcow2)", type);
	return 0;
}

static int parse_backing(struct parse *p, const xmlNode *bs, struct domain_disk *disk)
{
	char *fmt = dx_child_attr(bs, "format", "type");
	int ret;

	if (!bs->children && !bs->properties)
		return 0;	/* <backingStore/>: the chain ends here */
	free(disk->backing);
	disk->backing = dx_child_attr(bs, "source", "file");
	ret = disk_format(p, bs, fmt, &disk->backing_format);
	free(fmt);
	if (!ret && !disk->backing)
		ret = dx_refuse(p, bs, "give <source file='...'/> (vmm follows the image's own backing file)");
	return ret;
}

static int disk_child(struct parse *p, const xmlNode *n, struct domain_disk *disk)
{
	if (dx_is(n, "driver")) {
		char *type = dx_attr(n, "type");
		int ret = disk_format(p, n, type, &disk->format);

		xmlFree(type);
		return ret;
	}
	if (dx_is(n, "source")) {
		free(disk->source);
		disk->source = dx_child_attr(n->parent, "source", "file");
		return disk->source ? 0 : dx_refuse(p, n, "give file='PATH'");
	}
	if (dx_is(n, "target")) {
		char *bus = dx_attr(n, "bus");
		int ret = 0;

		free(disk->target);
		disk->target = dx_child_attr(n->parent, "target", "dev");
		if (bus && strcmp(bus, "virtio"))
			ret = dx_refuse(p, n, "bus '%s': vmm has virtio disks only (bus='virtio', dev='vdX')", bus);
		else if (!disk->target || strlen(disk->target) != 3 || strncmp(disk->target, "vd", 2) ||
			 disk->target[2] < 'a' || disk->target[2] >= 'a' + DOMAIN_MAX_DISKS)
			ret = dx_refuse(p, n, "dev '%s': use vda to vd%c", disk->target ? disk->target : "",
				     'a' + DOMAIN_MAX_DISKS - 1);
		xmlFree(bus);
		return ret;
	}
	if (dx_is(n, "readonly")) {
		disk->read_only = true;
		return 0;
	}
	if (dx_is(n, "serial")) {
		free(disk->serial);
		disk->serial = dx_text(n);
		if (disk->serial && strlen(disk->serial) > 20)
			return dx_refuse(p, n, "at most 20 bytes");
		return 0;
	}
	if (dx_is(n, "backingStore"))
		return parse_backing(p, n, disk);
	if (dx_is(n, "address") || dx_is(n, "alias") || dx_is(n, "boot") || dx_is(n, "iotune") ||
	    dx_is(n, "blockio") || dx_is(n, "geometry") || dx_is(n, "shareable")) {
		dx_pass_over(n, "changes nothing for a virtio-mmio disk");
		return 0;
	}
	return dx_refuse(p, n, "not supported by vmm");
}

static int parse_disk(struct parse *p, const xmlNode *n)
{
	struct domain_def *d = p->d;
	struct domain_disk *disk;
	int ret = 0;

	if (!dx_attr_is(n, "type", "file"))
		return dx_refuse(p, n, "vmm takes disk images as files (type='file')");
	if (dx_has_attr(n, "device") && !dx_attr_is(n, "device", "disk"))
		return dx_refuse(p, n, "only device='disk' is supported (no cdrom, floppy or lun)");
	if (d->ndisks == DOMAIN_MAX_DISKS)
		return dx_refuse(p, n, "at most %d disks", DOMAIN_MAX_DISKS);
	disk = &d->disks[d->ndisks++];
	for (const xmlNode *c = n->children; c && !ret; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			ret = disk_child(p, c, disk);
	if (!ret && !disk->source)
		ret = dx_refuse(p, n, "give <source file='PATH'/>");
	if (!ret && !disk->target)
		ret = dx_refuse(p, n, "give <target dev='vdX' bus='virtio'/>");
	for (unsigned i = 0; !ret && i + 1 < d->ndisks; i++)
		if (!strcmp(d->disks[i].target, disk->target))
			ret = dx_refuse(p, n, "target %s is used twice", disk->target);
	return ret;
}

/* --- <interface> --- */

static int parse_mac(struct parse *p, const xmlNode *n, struct domain_nic *nic)
{
	char *a = dx_attr(n, "address");
	unsigned b[6];
	char end;
	int ret = 0;

	if (!a || sscanf(a, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
			 &end) != 6 || (b[0] & 1))
		ret = dx_refuse(p, n, "'%s' is not a unicast MAC address", a ? a : "");
	for (int i = 0; !ret && i < 6; i++)
		nic->mac[i] = b[i];
	nic->has_mac = !ret;
	xmlFree(a);
	return ret;
}

static int port_attr(struct parse *p, const xmlNode *n, const char *name, uint16_t *port)
{
	char *v = dx_attr(n, name);
	uint64_t x;
	int ret = 0;

	if (v && parse_uint(v, 1, 65535, &x))
		ret = dx_refuse(p, n, "%s='%s' is not a port from 1 to 65535", name, v);
	else if (v)
		*port = x;
	xmlFree(v);
	return ret;
}

static int parse_forward(struct parse *p, const xmlNode *n, struct domain_nic *nic)
{
	char *proto = dx_attr(n, "proto");
	struct domain_forward f = { 0 };
	int ret = 0;

	if (!proto || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		ret = dx_refuse(p, n, "proto '%s': use tcp or udp", proto ? proto : "");
	f.udp = proto && !strcmp(proto, "udp");
	xmlFree(proto);
	f.address = dx_has_attr(n, "address") ? dx_attr(n, "address") : NULL;
	if (f.address) {
		char *a = strdup(f.address);

		xmlFree(f.address);
		f.address = a;
	}
	for (const xmlNode *r = n->children; r && !ret; r = r->next) {
		struct domain_forward g = f;

		if (r->type != XML_ELEMENT_NODE)
			continue;
		if (!dx_is(r, "range"))
			ret = dx_refuse(p, r, "not supported by vmm");
		else if (dx_has_attr(r, "exclude"))
			ret = dx_refuse(p, r, "exclude='...' is not supported");
		else if ((ret = port_attr(p, r, "start", &g.start)) || (ret = port_attr(p, r, "end", &g.end)) ||
			 (ret = port_attr(p, r, "to", &g.to)))
			;
		else if (!g.start)
			ret = dx_refuse(p, r, "give start='PORT'");
		else if (g.end && g.end < g.start)
			ret = dx_refuse(p, r, "end %u is below start %u", g.end, g.start);
		else if (nic->nforwards == DOMAIN_MAX_FORWARDS)
			ret = dx_refuse(p, r, "at most %d port forwards", DOMAIN_MAX_FORWARDS);
		else {
			g.end = g.end ? g.end : g.start;
			g.to = g.to ? g.to : g.start;
			if ((unsigned)g.to + (g.end - g.start) > 65535)
				ret = dx_refuse(p, r, "the guest ports run past 65535");
			else {
				g.address = f.address ? strdup(f.address) : NULL;
				nic->forwards[nic->nforwards++] = g;
			}
		}
	}
	free(f.address);
	return ret;
}

static int nic_child(struct parse *p, const xmlNode *n, struct domain_nic *nic)
{
	if (dx_is(n, "mac"))
		return parse_mac(p, n, nic);
	if (dx_is(n, "model"))
		return dx_attr_is(n, "type", "virtio") ? 0 :
		       dx_refuse(p, n, "vmm has virtio network devices only (type='virtio')");
	if (dx_is(n, "target")) {
		if (nic->type != DOMAIN_NET_ETHERNET) {
			dx_pass_over(n, "a user-mode interface has no host device");
			return 0;
		}
		free(nic->tap);
		nic->tap = dx_child_attr(n->parent, "target", "dev");
		if (!nic->tap || !*nic->tap || strlen(nic->tap) >= 16)
			return dx_refuse(p, n, "give dev='TAP' (an existing tap device, at most 15 bytes)");
		if (dx_has_attr(n, "managed") && !dx_attr_is(n, "managed", "no"))
			return dx_refuse(p, n, "vmm uses an existing tap device: managed='no'");
		return 0;
	}
	if (dx_is(n, "portForward")) {
		if (nic->type != DOMAIN_NET_USER)
			return dx_refuse(p, n, "port forwards need type='user'");
		return parse_forward(p, n, nic);
	}
	if (dx_is(n, "address") || dx_is(n, "alias") || dx_is(n, "link") || dx_is(n, "mtu") ||
	    dx_is(n, "driver") || dx_is(n, "rom") || dx_is(n, "boot") || dx_is(n, "backend")) {
		dx_pass_over(n, "changes nothing for vmm's virtio-net");
		return 0;
	}
	return dx_refuse(p, n, "not supported by vmm");
}

static int parse_interface(struct parse *p, const xmlNode *n)
{
	struct domain_def *d = p->d;
	struct domain_nic *nic;
	int ret = 0;

	if (d->nnics == DOMAIN_MAX_NICS)
		return dx_refuse(p, n, "vmm gives a VM one network interface");
	nic = &d->nics[d->nnics++];
	if (dx_attr_is(n, "type", "user"))
		nic->type = DOMAIN_NET_USER;
	else if (dx_attr_is(n, "type", "ethernet"))
		nic->type = DOMAIN_NET_ETHERNET;
	else
		return dx_refuse(p, n, "interface type not supported by vmm (use 'user' or 'ethernet' "
			      "with an existing tap device)");
	for (const xmlNode *c = n->children; c && !ret; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			ret = nic_child(p, c, nic);
	if (!ret && nic->type == DOMAIN_NET_ETHERNET && !nic->tap)
		ret = dx_refuse(p, n, "give <target dev='TAP'/>");
	return ret;
}

/* --- <serial>, <console>, <vsock>, <rng> --- */

static int parse_chardev(struct parse *p, const xmlNode *n, bool console)
{
	struct domain_def *d = p->d;
	char *port = dx_child_attr(n, "target", "port"), *ttype = dx_child_attr(n, "target", "type");
	int ret = 0;

	if (port && strcmp(port, "0"))
		ret = dx_refuse(p, n, "vmm has one serial port: port='0'");
	else if (console && ttype && strcmp(ttype, "serial"))
		ret = dx_refuse(p, n, "target type '%s': vmm's console is the serial port", ttype);
	free(port);
	free(ttype);
	if (ret || (console && d->serial != DOMAIN_CHR_NONE))
		return ret;	/* a console beside a serial port is that port (libvirt's view) */
	if (dx_attr_is(n, "type", "pty")) {
		d->serial = DOMAIN_CHR_PTY;
	} else if (dx_attr_is(n, "type", "file")) {
		free(d->serial_path);
		d->serial_path = dx_child_attr(n, "source", "path");
		if (!d->serial_path)
			return dx_refuse(p, n, "give <source path='FILE'/>");
		d->serial = DOMAIN_CHR_FILE;
	} else {
		return dx_refuse(p, n, "type not supported by vmm (use 'pty' or 'file')");
	}
	return 0;
}

static int parse_vsock(struct parse *p, const xmlNode *n)
{
	char *a = dx_child_attr(n, "cid", "address"), *aut = dx_child_attr(n, "cid", "auto");
	uint64_t cid = 3;
	int ret = 0;

	if (dx_has_attr(n, "model") && !dx_attr_is(n, "model", "virtio"))
		ret = dx_refuse(p, n, "model must be virtio");
	else if (a && (!aut || strcmp(aut, "yes")) && parse_uint(a, 3, 0xfffffffeULL, &cid))
		ret = dx_refuse(p, n, "cid '%s' is not from 3 to 4294967294", a);
	p->d->vsock = !ret;
	p->d->vsock_cid = cid;
	free(a);
	free(aut);
	return ret;
}

static int parse_rng(struct parse *p, const xmlNode *n)
{
	char *model = dx_child_attr(n, "backend", "model");
	int ret = 0;

	if (!dx_attr_is(n, "model", "virtio"))
		ret = dx_refuse(p, n, "model must be virtio");
	else if (model && strcmp(model, "random"))
		ret = dx_refuse(p, n, "backend model '%s': vmm feeds the guest from the host's getrandom() "
			     "(use model='random')", model);
	p->d->rng = !ret;
	free(model);
	return ret;
}

/* --- <devices> --- */

static const struct { const char *name, *why; } refused_devices[] = {
	{ "hostdev", "PCI and USB passthrough is not supported by vmm" },
	{ "graphics", "vmm has no display; use <serial> or <console>" },
	{ "video", "vmm has no display; use <serial> or <console>" },
	{ "sound", "vmm has no sound device" },
	{ "channel", "guest channels are not supported; vmm has <vsock>" },
	{ "watchdog", "vmm has no watchdog device" },
	{ "tpm", "vmm has no TPM" },
	{ "smartcard", "vmm has no smartcard reader" },
	{ "redirdev", "vmm has no USB" },
	{ "hub", "vmm has no USB" },
	{ "parallel", "vmm has one serial port and no parallel port" },
	{ "memory", "memory hotplug is not supported by vmm" },
	{ "shmem", "shared memory devices are not supported by vmm" },
	{ "iommu", "vmm has no IOMMU" },
	{ "panic", "vmm sees a guest panic on the console; no panic device" },
	{ "crypto", "vmm has no crypto device" },
	{ "lease", "lock leases are not supported by vmm" },
};

static int parse_devices(struct parse *p, const xmlNode *devs)
{
	int ret = 0;

	for (const xmlNode *n = devs->children; n && !ret; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (dx_is(n, "disk"))
			ret = parse_disk(p, n);
		else if (dx_is(n, "interface"))
			ret = parse_interface(p, n);
		else if (dx_is(n, "serial"))
			ret = parse_chardev(p, n, false);
		else if (dx_is(n, "console"))
			ret = parse_chardev(p, n, true);
		else if (dx_is(n, "vsock"))
			ret = parse_vsock(p, n);
		else if (dx_is(n, "rng"))
			ret = parse_rng(p, n);
		else if (dx_is(n, "filesystem"))
			ret = dx_parse_filesystem(p, n);
		else if (dx_is(n, "emulator") || dx_is(n, "controller") || dx_is(n, "input") ||
			 dx_is(n, "memballoon") || dx_is(n, "audio"))
			dx_pass_over(n, "vmm has no emulator binary, buses, input devices or balloon");
		else {
			ret = dx_refuse(p, n, "not supported by vmm");
			for (size_t i = 0; i < ARRAY_SIZE(refused_devices); i++)
				if (dx_is(n, refused_devices[i].name))
					ret = dx_refuse(p, n, "%s", refused_devices[i].why);
		}
	}
	return ret;
}

/* --- <domain> --- */

static const char *const ignored_top[] = {
	"title", "description", "features", "cpu", "clock", "pm", "resource", "seclabel",
	"memoryBacking", "iothreads", "cputune", "numatune", "memtune", "blkiotune", "perf",
	"vcpus", "on_lockfailure", "genid", "throttlegroups",
};

/* Indentation is not content: drop white-space-only text so a re-indented copy compares equal. */
static void drop_blanks(xmlNode *n)
{
	xmlNode *next;

	for (xmlNode *c = n->children; c; c = next) {
		next = c->next;
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			drop_blanks(c);
		}
	}
}

/* Keep <metadata> (libvirt keeps other applications' metadata too), without indentation. */
static int parse_metadata(struct parse *p, xmlNode *n)
{
	xmlBufferPtr buf = xmlBufferCreate();

	if (!buf)
		return err_set(p->e, -ENOMEM, "out of memory");
	drop_blanks(n);
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			xmlNodeDump(buf, n->doc, c, 0, 0);
	free(p->d->metadata);
	p->d->metadata = xmlBufferLength(buf) ? strdup((const char *)xmlBufferContent(buf)) : NULL;
	xmlBufferFree(buf);
	return 0;
}

static int parse_uuid(struct parse *p, const xmlNode *n)
{
	char *t = dx_text(n);
	int ret = 0;

	if (!t || domain_uuid_parse(t, p->d->uuid))
		ret = dx_refuse(p, n, "'%s' is not a UUID", t ? t : "");
	p->d->has_uuid = !ret;
	free(t);
	return ret;
}

static int top_child(struct parse *p, xmlNode *n, bool *have_memory)
{
	struct domain_def *d = p->d;
	uint64_t current;
	int ret;

	if (dx_is(n, "name")) {
		if ((ret = dx_take_text(p, n, &d->name)))
			return ret;
		return domain_name_valid(d->name) ? 0 :
		       dx_refuse(p, n, "'%s': use up to %d of A-Z a-z 0-9 _ . + -, not starting with . or -",
			      d->name, DOMAIN_NAME_MAX);
	}
	if (dx_is(n, "uuid"))
		return parse_uuid(p, n);
	if (dx_is(n, "memory")) {
		*have_memory = true;
		return parse_memory(p, n, &d->memory);
	}
	if (dx_is(n, "currentMemory")) {
		/* No balloon: the guest gets <memory>; a smaller current size is not honoured. */
		if ((ret = parse_memory(p, n, &current)))
			return ret;
		dx_pass_over(n, "no balloon: the guest gets <memory>");
		return 0;
	}
	if (dx_is(n, "maxMemory"))
		return dx_refuse(p, n, "memory hotplug is not supported by vmm");
	if (dx_is(n, "vcpu"))
		return parse_vcpu(p, n);
	if (dx_is(n, "os"))
		return parse_os(p, n);
	if (dx_is(n, "on_poweroff"))
		return parse_action(p, n, &d->on_poweroff);
	if (dx_is(n, "on_reboot"))
		return parse_action(p, n, &d->on_reboot);
	if (dx_is(n, "on_crash"))
		return parse_action(p, n, &d->on_crash);
	if (dx_is(n, "devices"))
		return parse_devices(p, n);
	if (dx_is(n, "metadata"))
		return parse_metadata(p, n);
	for (size_t i = 0; i < ARRAY_SIZE(ignored_top); i++)
		if (dx_is(n, ignored_top[i])) {
			dx_pass_over(n, "changes nothing for a direct-boot micro-VM");
			return 0;
		}
	return dx_refuse(p, n, "not supported by vmm");
}

static int parse_domain(struct parse *p, const xmlNode *root)
{
	struct domain_def *d = p->d;
	bool have_memory = false;
	char *type;
	int ret = 0;

	if (!dx_is(root, "domain"))
		return dx_refuse(p, root, "not a libvirt domain (want <domain type='kvm'>)");
	type = dx_attr(root, "type");
	if (!type || strcmp(type, "kvm"))
		ret = dx_refuse(p, root, "type '%s': vmm runs KVM guests (type='kvm')", type ? type : "");
	xmlFree(type);
	d->vcpus = 1;
	d->on_poweroff = DOMAIN_DESTROY;
	d->on_reboot = DOMAIN_RESTART;
	d->on_crash = DOMAIN_DESTROY;
	for (xmlNode *n = root->children; n && !ret; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			ret = top_child(p, n, &have_memory);
	if (ret)
		return ret;
	if (!d->name)
		return dx_refuse(p, root, "give <name>");
	if (!have_memory)
		return dx_refuse(p, root, "give <memory unit='MiB'>SIZE</memory>");
	if (!d->kernel)
		return dx_refuse(p, root, "give <os><kernel>: vmm boots a kernel directly (no firmware)");
	return 0;
}

/* Sort disks by target (vda first): the machine attaches them in that order. */
static int disk_cmp(const void *a, const void *b)
{
	return strcmp(((const struct domain_disk *)a)->target, ((const struct domain_disk *)b)->target);
}

int domain_parse(const char *xml, size_t len, struct domain_def *d, struct error *e)
{
	struct parse p = { .d = d, .e = e };
	xmlDoc *doc;
	int ret;

	memset(d, 0, sizeof(*d));
	if (len > DOMAIN_XML_MAX)
		return err_set(e, -EFBIG, "domain XML is %zu bytes; at most %d", len, DOMAIN_XML_MAX);
	/* NONET: no fetching; no NOENT/DTDLOAD: entities stay unexpanded, no external DTD. */
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *xe = xmlGetLastError();
		int n = xe && xe->message ? (int)strcspn(xe->message, "\n") : 0;

		return err_set(e, -EINVAL, "not well-formed XML (line %d)%s%.*s", xe ? xe->line : 0,
			       n ? ": " : "", MIN(n, 200), n ? xe->message : "");
	}
	if (doc->intSubset || doc->extSubset) {
		ret = err_set(e, -EINVAL, "domain XML with a <!DOCTYPE> is refused (no DTDs or entities)");
	} else {
		ret = parse_domain(&p, xmlDocGetRootElement(doc));
		if (!ret)
			qsort(d->disks, d->ndisks, sizeof(d->disks[0]), disk_cmp);
	}
	xmlFreeDoc(doc);
	if (ret)
		domain_free(d);
	return ret;
}
