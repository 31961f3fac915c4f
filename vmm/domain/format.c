/*
 * Domain XML out, in the form libvirt itself writes (memory in KiB, static
 * vCPU placement), so virt-xml-validate and `virsh define` accept it.
 * libxml2's writer escapes every value.
 */
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/domain/domain.h"

static const char *fmt_name(enum domain_disk_format f)
{
	return f == DOMAIN_DISK_QCOW2 ? "qcow2" : "raw";
}

static const char *action_name(enum domain_action a)
{
	return a == DOMAIN_RESTART ? "restart" : "destroy";
}

/* <name attr=value .../> with NULL-terminated attribute pairs; a NULL value is left out. */
static void empty(xmlTextWriterPtr w, const char *name, ...)
{
	va_list ap;
	const char *k, *v;

	xmlTextWriterStartElement(w, BAD_CAST name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (v)
			xmlTextWriterWriteAttribute(w, BAD_CAST k, BAD_CAST v);
	}
	va_end(ap);
	xmlTextWriterEndElement(w);
}

static void element(xmlTextWriterPtr w, const char *name, const char *text)
{
	xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST text);
}

static void write_disk(xmlTextWriterPtr w, const struct domain_disk *disk)
{
	xmlTextWriterStartElement(w, BAD_CAST "disk");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "file");
	xmlTextWriterWriteAttribute(w, BAD_CAST "device", BAD_CAST "disk");
	empty(w, "driver", "name", "qemu", "type", fmt_name(disk->format), NULL);
	empty(w, "source", "file", disk->source, NULL);
	if (disk->backing) {
		xmlTextWriterStartElement(w, BAD_CAST "backingStore");
		xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "file");
		empty(w, "format", "type", fmt_name(disk->backing_format), NULL);
		empty(w, "source", "file", disk->backing, NULL);
		xmlTextWriterEndElement(w);
	}
	empty(w, "target", "dev", disk->target, "bus", "virtio", NULL);
	if (disk->read_only)
		empty(w, "readonly", NULL);
	if (disk->serial)
		element(w, "serial", disk->serial);
	xmlTextWriterEndElement(w);
}

static void write_nic(xmlTextWriterPtr w, const struct domain_nic *nic)
{
	char mac[18], port[3][6];

	xmlTextWriterStartElement(w, BAD_CAST "interface");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type",
				    BAD_CAST(nic->type == DOMAIN_NET_USER ? "user" : "ethernet"));
	if (nic->has_mac) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0], nic->mac[1],
			 nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
		empty(w, "mac", "address", mac, NULL);
	}
	for (unsigned i = 0; i < nic->nforwards; i++) {
		const struct domain_forward *f = &nic->forwards[i];

		xmlTextWriterStartElement(w, BAD_CAST "portForward");
		xmlTextWriterWriteAttribute(w, BAD_CAST "proto", BAD_CAST(f->udp ? "udp" : "tcp"));
		if (f->address)
			xmlTextWriterWriteAttribute(w, BAD_CAST "address", BAD_CAST f->address);
		snprintf(port[0], sizeof(port[0]), "%u", f->start);
		snprintf(port[1], sizeof(port[1]), "%u", f->end);
		snprintf(port[2], sizeof(port[2]), "%u", f->to);
		empty(w, "range", "start", port[0], "end", f->end != f->start ? port[1] : NULL,
		      "to", f->to != f->start ? port[2] : NULL, NULL);
		xmlTextWriterEndElement(w);
	}
	if (nic->tap)
		empty(w, "target", "dev", nic->tap, "managed", "no", NULL);
	empty(w, "model", "type", "virtio", NULL);
	xmlTextWriterEndElement(w);
}

static void write_fs(xmlTextWriterPtr w, const struct domain_fs *fs)
{
	xmlTextWriterStartElement(w, BAD_CAST "filesystem");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "mount");
	xmlTextWriterWriteAttribute(w, BAD_CAST "accessmode", BAD_CAST "passthrough");
	empty(w, "driver", "type", "virtiofs", NULL);
	if (fs->binary)
		empty(w, "binary", "path", fs->binary, NULL);
	empty(w, "source", "dir", fs->source, NULL);
	empty(w, "target", "dir", fs->tag, NULL);
	if (fs->read_only)
		empty(w, "readonly", NULL);
	xmlTextWriterEndElement(w);
}

static void write_console(xmlTextWriterPtr w, const struct domain_def *d)
{
	const char *type = d->serial == DOMAIN_CHR_FILE ? "file" : "pty";

	for (int console = 0; console < 2; console++) {
		xmlTextWriterStartElement(w, BAD_CAST(console ? "console" : "serial"));
		xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST type);
		if (d->serial == DOMAIN_CHR_FILE)
			empty(w, "source", "path", d->serial_path, NULL);
		empty(w, "target", "type", console ? "serial" : NULL, "port", "0", NULL);
		xmlTextWriterEndElement(w);
	}
}

static void write_devices(xmlTextWriterPtr w, const struct domain_def *d)
{
	char cid[12];

	xmlTextWriterStartElement(w, BAD_CAST "devices");
	for (unsigned i = 0; i < d->ndisks; i++)
		write_disk(w, &d->disks[i]);
	for (unsigned i = 0; i < d->nfs; i++)
		write_fs(w, &d->fs[i]);
	for (unsigned i = 0; i < d->nnics; i++)
		write_nic(w, &d->nics[i]);
	if (d->serial != DOMAIN_CHR_NONE)
		write_console(w, d);
	if (d->rng) {
		xmlTextWriterStartElement(w, BAD_CAST "rng");
		xmlTextWriterWriteAttribute(w, BAD_CAST "model", BAD_CAST "virtio");
		xmlTextWriterStartElement(w, BAD_CAST "backend");
		xmlTextWriterWriteAttribute(w, BAD_CAST "model", BAD_CAST "random");
		xmlTextWriterWriteString(w, BAD_CAST "/dev/urandom");
		xmlTextWriterEndElement(w);
		xmlTextWriterEndElement(w);
	}
	if (d->vsock) {
		snprintf(cid, sizeof(cid), "%u", d->vsock_cid);
		xmlTextWriterStartElement(w, BAD_CAST "vsock");
		xmlTextWriterWriteAttribute(w, BAD_CAST "model", BAD_CAST "virtio");
		empty(w, "cid", "auto", "no", "address", cid, NULL);
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
}

char *domain_format(const struct domain_def *d)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	char uuid[37], num[32], *out = NULL;

	if (!w) {
		xmlBufferFree(buf);
		return NULL;
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	xmlTextWriterStartElement(w, BAD_CAST "domain");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "kvm");
	element(w, "name", d->name);
	if (d->has_uuid) {
		domain_uuid_format(d->uuid, uuid);
		element(w, "uuid", uuid);
	}
	if (d->metadata) {
		xmlTextWriterStartElement(w, BAD_CAST "metadata");
		xmlTextWriterWriteRaw(w, BAD_CAST d->metadata);
		xmlTextWriterEndElement(w);
	}
	snprintf(num, sizeof(num), "%llu", (unsigned long long)(d->memory / 1024));
	for (int i = 0; i < 2; i++) {
		xmlTextWriterStartElement(w, BAD_CAST(i ? "currentMemory" : "memory"));
		xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "KiB");
		xmlTextWriterWriteString(w, BAD_CAST num);
		xmlTextWriterEndElement(w);
	}
	if (d->nfs) {	/* virtiofsd maps guest RAM: libvirt wants it shared */
		xmlTextWriterStartElement(w, BAD_CAST "memoryBacking");
		empty(w, "source", "type", "memfd", NULL);
		empty(w, "access", "mode", "shared", NULL);
		xmlTextWriterEndElement(w);
	}
	snprintf(num, sizeof(num), "%u", d->vcpus);
	xmlTextWriterStartElement(w, BAD_CAST "vcpu");
	xmlTextWriterWriteAttribute(w, BAD_CAST "placement", BAD_CAST "static");
	xmlTextWriterWriteString(w, BAD_CAST num);
	xmlTextWriterEndElement(w);

	xmlTextWriterStartElement(w, BAD_CAST "os");
	xmlTextWriterStartElement(w, BAD_CAST "type");
	xmlTextWriterWriteAttribute(w, BAD_CAST "arch", BAD_CAST "x86_64");
	xmlTextWriterWriteString(w, BAD_CAST "hvm");
	xmlTextWriterEndElement(w);
	element(w, "kernel", d->kernel);
	if (d->initrd)
		element(w, "initrd", d->initrd);
	if (d->cmdline)
		element(w, "cmdline", d->cmdline);
	xmlTextWriterEndElement(w);
	element(w, "on_poweroff", action_name(d->on_poweroff));
	element(w, "on_reboot", action_name(d->on_reboot));
	element(w, "on_crash", action_name(d->on_crash));
	write_devices(w, d);
	xmlTextWriterEndElement(w);
	if (xmlTextWriterEndDocument(w) >= 0)
		out = strdup((const char *)xmlBufferContent(buf));
	xmlFreeTextWriter(w);
	xmlBufferFree(buf);
	return out;
}
