/*
 * <filesystem>: a host folder shared over virtio-fs, as libvirt writes it
 *
 *   <filesystem type='mount' accessmode='passthrough'>
 *     <driver type='virtiofs'/>
 *     <binary path='/usr/libexec/virtiofsd'/>
 *     <source dir='/srv/data'/>
 *     <target dir='data'/>       (the tag: mount -t virtiofs data /mnt)
 *     <readonly/>
 *   </filesystem>
 *
 * vmm runs one virtiofsd per share, as libvirt does.
 */
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/domain/parse-internal.h"

#define FS_TAG_MAX	36	/* virtio-fs config space: the tag field */

/* Replace *out with n's attribute (malloc'd, NULL when absent). */
static char *attr_into(const xmlNode *n, const char *name, char **out)
{
	char *v = dx_attr(n, name);

	free(*out);
	*out = v ? strdup(v) : NULL;
	xmlFree(v);
	return *out;
}

static int fs_binary(struct parse *p, const xmlNode *n, struct domain_fs *fs)
{
	if (attr_into(n, "path", &fs->binary) && fs->binary[0] != '/')
		return dx_refuse(p, n, "path '%s': give the virtiofsd binary as an absolute path", fs->binary);
	/* <cache>, <lock>, <sandbox>, <thread_pool>, xattr: virtiofsd's own defaults apply. */
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			dx_pass_over(c, "vmm starts virtiofsd with its own defaults");
	return 0;
}

static int fs_child(struct parse *p, const xmlNode *n, struct domain_fs *fs)
{
	if (dx_is(n, "driver"))
		return dx_attr_is(n, "type", "virtiofs") ? 0 :
		       dx_refuse(p, n, "vmm shares folders over virtio-fs only (type='virtiofs'; no 9p)");
	if (dx_is(n, "binary"))
		return fs_binary(p, n, fs);
	if (dx_is(n, "source")) {
		if (!attr_into(n, "dir", &fs->source) || fs->source[0] != '/')
			return dx_refuse(p, n, "give dir='/ABSOLUTE/PATH'");
		return 0;
	}
	if (dx_is(n, "target")) {
		if (!attr_into(n, "dir", &fs->tag) || !fs->tag[0] || strlen(fs->tag) > FS_TAG_MAX)
			return dx_refuse(p, n, "give dir='TAG', the tag the guest mounts (1 to %d bytes)",
					 FS_TAG_MAX);
		return 0;
	}
	if (dx_is(n, "readonly")) {
		fs->read_only = true;
		return 0;
	}
	if (dx_is(n, "address") || dx_is(n, "alias") || dx_is(n, "idmap")) {
		dx_pass_over(n, "changes nothing for a virtio-mmio share");
		return 0;
	}
	return dx_refuse(p, n, "not supported by vmm");
}

static bool has_driver(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (dx_is(c, "driver"))
			return true;
	return false;
}

int dx_parse_filesystem(struct parse *p, const xmlNode *n)
{
	struct domain_def *d = p->d;
	struct domain_fs *fs;
	int ret = 0;

	if (dx_has_attr(n, "type") && !dx_attr_is(n, "type", "mount"))
		return dx_refuse(p, n, "vmm shares host folders (type='mount')");
	if (dx_has_attr(n, "accessmode") && !dx_attr_is(n, "accessmode", "passthrough"))
		return dx_refuse(p, n, "virtio-fs shares are passthrough (accessmode='passthrough')");
	if (d->nfs == DOMAIN_MAX_FS)
		return dx_refuse(p, n, "at most %d shared folders", DOMAIN_MAX_FS);
	fs = &d->fs[d->nfs++];
	for (const xmlNode *c = n->children; c && !ret; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			ret = fs_child(p, c, fs);
	if (ret)
		return ret;
	if (!fs->source)
		return dx_refuse(p, n, "give <source dir='/PATH'/>");
	if (!fs->tag)
		return dx_refuse(p, n, "give <target dir='TAG'/>");
	if (!has_driver(n))
		return dx_refuse(p, n, "give <driver type='virtiofs'/> (vmm has no 9p)");
	for (unsigned i = 0; i + 1 < d->nfs; i++)
		if (!strcmp(d->fs[i].tag, fs->tag))
			return dx_refuse(p, n, "tag %s is used twice", fs->tag);
	return 0;
}
