/*
 * A container's VM as a libvirt domain: the kernel and agent initrd vmm
 * boots, its memory and vCPUs, the container's qcow2 overlay with the image's
 * base disk behind it, its shared folders, its network (user-mode with the
 * published ports, or its tap), the agent's vsock, an RNG and the console log. What makes it a
 * container rather than a VM (image, command, environment, ports, mounts)
 * goes under <metadata> in vmm's namespace.
 */
#include <errno.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/disk/disk.h"
#include "images/disk/qcow2.h"
#include "vmm/base/util.h"
#include "vmm/domain/container.h"
#include "vmm/engine/container-mounts.h"
#include "vmm/engine/container.h"
#include "vmm/engine/netcfg.h"
#include "vmm/engine/runner.h"

#define VMM_XMLNS	"https://vmm.dev/xmlns/container/1"
#define AGENT_CID	3	/* the guest's vsock CID the agent listens on */

static char *dup_path(int (*fill)(char *, size_t))
{
	char buf[4096];

	return fill(buf, sizeof(buf)) ? NULL : strdup(buf);
}

/* The overlay and, when it has one, its backing file (the image's base disk). */
static int root_disk(const struct container *ct, struct domain_disk *disk, struct error *e)
{
	struct disk_open_opts opts = { .format = DISK_FMT_QCOW2, .read_only = true, .no_backing = true };
	struct qcow2_info qi;
	struct disk *d;
	char path[4096];
	int ret;

	if (container_path(ct, "disk.qcow2", path, sizeof(path)))
		return err_set(e, -ENAMETOOLONG, "container %.12s: path too long", ct->cfg.id);
	*disk = (struct domain_disk){
		.source = strdup(path), .format = DOMAIN_DISK_QCOW2, .target = strdup("vda"),
		.read_only = ct->cfg.read_only, .serial = strdup("vmm-root"),
	};
	if ((ret = disk_open(path, &opts, &d, e)))
		return err_wrap(e, ret, "container %.12s: its root disk", ct->cfg.id);
	qcow2_get_info(d, &qi);
	if (qi.backing_file) {
		disk->backing = disk_backing_path(path, qi.backing_file);
		disk->backing_format = qi.backing_fmt && !strcmp(qi.backing_fmt, "qcow2") ?
				       DOMAIN_DISK_QCOW2 : DOMAIN_DISK_RAW;
	}
	disk_close(d);
	return 0;
}

static void network(const struct net_config *net, struct domain_def *d)
{
	struct domain_nic *nic = &d->nics[0];

	if (net->mode == NET_MODE_NONE)
		return;
	d->nnics = 1;
	nic->type = net->mode == NET_MODE_TAP ? DOMAIN_NET_ETHERNET : DOMAIN_NET_USER;
	if (net->mode == NET_MODE_TAP)
		nic->tap = strdup(net->tap);
	nic->has_mac = netcfg_mac_bytes(net->mac, nic->mac) == 0;
	for (size_t i = 0; net->mode == NET_MODE_SLIRP && i < net->nports; i++) {
		const struct port_binding *p = &net->ports[i];

		/* A port picked anew at each start has no fixed host side to write down. */
		if (!p->host_port || nic->nforwards == DOMAIN_MAX_FORWARDS)
			continue;
		nic->forwards[nic->nforwards++] = (struct domain_forward){
			.udp = p->udp, .address = p->host_ip[0] ? strdup(p->host_ip) : NULL,
			.start = p->host_port, .end = p->host_port, .to = p->container_port,
		};
	}
}

static void text(xmlTextWriterPtr w, const char *name, const char *value)
{
	if (value)
		xmlTextWriterWriteElementNS(w, BAD_CAST "vmm", BAD_CAST name, NULL, BAD_CAST value);
}

static void list(xmlTextWriterPtr w, const char *name, const char *item, char **v)
{
	if (!v)
		return;
	xmlTextWriterStartElementNS(w, BAD_CAST "vmm", BAD_CAST name, NULL);
	for (; *v; v++)
		text(w, item, *v);
	xmlTextWriterEndElement(w);
}

static void attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	if (value && *value)
		xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value);
}

/* <vmm:container>: what the VM runs. */
static char *metadata(const struct container_config *c)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	char *out = NULL, num[2][8];

	if (!w) {
		xmlBufferFree(buf);
		return NULL;
	}
	xmlTextWriterStartElementNS(w, BAD_CAST "vmm", BAD_CAST "container", BAD_CAST VMM_XMLNS);
	text(w, "id", c->id);
	text(w, "name", c->name);
	text(w, "image", c->image_name ? c->image_name : c->image);
	text(w, "imageId", c->image);
	list(w, "cmd", "arg", c->argv);
	list(w, "env", "var", c->env);
	text(w, "workdir", c->workdir);
	text(w, "user", c->user);
	text(w, "hostname", c->hostname);
	for (size_t i = 0; i < c->net.nports; i++) {
		const struct port_binding *p = &c->net.ports[i];

		snprintf(num[0], sizeof(num[0]), "%u", p->host_port);
		snprintf(num[1], sizeof(num[1]), "%u", p->container_port);
		xmlTextWriterStartElementNS(w, BAD_CAST "vmm", BAD_CAST "port", NULL);
		attr(w, "proto", p->udp ? "udp" : "tcp");
		attr(w, "hostIp", p->host_ip);
		attr(w, "hostPort", p->host_port ? num[0] : NULL);
		attr(w, "containerPort", num[1]);
		xmlTextWriterEndElement(w);
	}
	for (unsigned i = 0; i < c->nmounts; i++) {
		const struct container_mount *m = &c->mounts[i];

		xmlTextWriterStartElementNS(w, BAD_CAST "vmm", BAD_CAST "mount", NULL);
		attr(w, "type", m->type == MOUNT_TMPFS ? "tmpfs" : m->type == MOUNT_VOLUME ? "volume" : "bind");
		attr(w, "name", m->name);
		attr(w, "source", m->type == MOUNT_TMPFS ? NULL : m->source);
		attr(w, "target", m->target);
		attr(w, "readonly", m->read_only ? "yes" : NULL);
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	if (xmlTextWriterEndDocument(w) >= 0)
		out = strdup((const char *)xmlBufferContent(buf));
	xmlFreeTextWriter(w);
	xmlBufferFree(buf);
	/* The writer ends the document with a newline (values may hold their own). */
	for (size_t len = out ? strlen(out) : 0; len && out[len - 1] == '\n'; len--)
		out[len - 1] = '\0';
	return out;
}

int domain_from_container(const struct container *ct, struct domain_def *d, struct error *e)
{
	const struct container_config *c = &ct->cfg;
	char console[4096];
	int ret;

	memset(d, 0, sizeof(*d));
	if (!domain_name_valid(c->name))
		return err_set(e, -EINVAL, "container %s: the name is not a valid libvirt domain name", c->name);
	d->name = strdup(c->name);
	/* A UUID from the container ID: the same container always gets the same domain. */
	for (int i = 0; i < 16; i++)
		sscanf(c->id + 2 * i, "%2hhx", &d->uuid[i]);
	d->has_uuid = true;
	d->memory = c->vm_memory;
	d->vcpus = c->vcpus ? c->vcpus : 1;
	d->kernel = dup_path(runner_kernel_path);
	d->initrd = dup_path(runner_initrd_path);
	d->on_poweroff = d->on_reboot = d->on_crash = DOMAIN_DESTROY;
	d->ndisks = 1;
	if ((ret = root_disk(ct, &d->disks[0], e)))
		goto fail;
	network(&c->net, d);
	/* Bind mounts and volumes are virtio-fs shares, tagged by slot as the runner tags them. */
	for (unsigned i = 0; i < c->nmounts && d->nfs < DOMAIN_MAX_FS; i++) {
		char tag[16];

		if (c->mounts[i].type == MOUNT_TMPFS)
			continue;
		snprintf(tag, sizeof(tag), "vmmfs%u", d->nfs);
		d->fs[d->nfs++] = (struct domain_fs){
			.source = strdup(c->mounts[i].source), .tag = strdup(tag),
			.read_only = c->mounts[i].read_only,
		};
	}
	if (!container_path(ct, "console.log", console, sizeof(console))) {
		d->serial = DOMAIN_CHR_FILE;
		d->serial_path = strdup(console);
	}
	d->vsock = true;
	d->vsock_cid = AGENT_CID;
	d->rng = true;
	d->metadata = metadata(c);
	if (!d->name || !d->kernel || !d->initrd || !d->metadata) {
		ret = err_set(e, -ENOMEM, "container %.12s: out of memory", c->id);
		goto fail;
	}
	return 0;
fail:
	domain_free(d);
	return ret;
}
