/* Reading <vmm:container> back (meta.h): the counterpart of container.c's writer. */
#include <errno.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/hex.h"
#include "vmm/base/strv.h"
#include "vmm/domain/meta.h"
#include "vmm/domain/parse-internal.h"

#define META_LIST_MAX	4096	/* arguments, variables, ports or mounts */

static bool ours(const xmlNode *n, const char *name)
{
	return dx_is(n, name) && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, DOMAIN_CONTAINER_XMLNS);
}

/* The exact text (values may start or end with blanks): malloc'd, "" when empty. */
static char *text(const xmlNode *n)
{
	xmlChar *raw = xmlNodeGetContent(n);
	char *s = strdup(raw ? (const char *)raw : "");

	xmlFree(raw);
	return s;
}

static int take(struct parse *p, const xmlNode *n, char **out)
{
	if (*out)
		return dx_refuse(p, n, "given twice");
	*out = text(n);
	return *out ? 0 : err_set(p->e, -ENOMEM, "out of memory");
}

static int take_list(struct parse *p, const xmlNode *n, const char *item, char ***out)
{
	if (*out)
		return dx_refuse(p, n, "given twice");
	if (!(*out = calloc(1, sizeof(char *))))
		return err_set(p->e, -ENOMEM, "out of memory");
	for (const xmlNode *c = n->children; c; c = c->next) {
		char *v;
		int ret;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!ours(c, item))
			return dx_refuse(p, c, "unexpected element; <vmm:%s> holds <vmm:%s> only", n->name, item);
		if (strv_len(*out) == META_LIST_MAX)
			return dx_refuse(p, c, "more than %d entries", META_LIST_MAX);
		v = text(c);
		ret = v ? strv_push(out, v) : -ENOMEM;
		free(v);
		if (ret)
			return err_set(p->e, ret, "out of memory");
	}
	return 0;
}

static char *attr(const xmlNode *n, const char *name)
{
	char *v = dx_attr(n, name), *dup = v ? strdup(v) : NULL;

	xmlFree(v);
	return dup;
}

/* <vmm:port proto hostIp hostPort containerPort/> as -p takes it. */
static int port(struct parse *p, const xmlNode *n, struct domain_container *c)
{
	char *proto = attr(n, "proto"), *ip = attr(n, "hostIp"), *host = attr(n, "hostPort");
	char *ctr = attr(n, "containerPort"), spec[128];
	int ret = 0;

	if (!ctr || !proto || strspn(ctr, "0123456789") != strlen(ctr) || strlen(ctr) > 5 ||
	    (host && (strspn(host, "0123456789") != strlen(host) || strlen(host) > 5)) ||
	    (ip && strlen(ip) > 45) || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		ret = dx_refuse(p, n, "a port needs proto (tcp, udp), containerPort, and may have hostIp, hostPort");
	else if (strv_len(c->ports) == META_LIST_MAX)
		ret = dx_refuse(p, n, "more than %d ports", META_LIST_MAX);
	if (!ret) {
		snprintf(spec, sizeof(spec), "%s%s%s%s%s/%s", ip ? ip : "", ip ? ":" : "", host ? host : "",
			 host || ip ? ":" : "", ctr, proto);
		if (strv_push(&c->ports, spec))
			ret = err_set(p->e, -ENOMEM, "out of memory");
	}
	free(proto);
	free(ip);
	free(host);
	free(ctr);
	return ret;
}

/* <vmm:mount type name source target readonly/> as -v or --tmpfs takes it. */
static int mount(struct parse *p, const xmlNode *n, struct domain_container *c)
{
	char *type = attr(n, "type"), *name = attr(n, "name"), *source = attr(n, "source");
	char *target = attr(n, "target"), *ro = attr(n, "readonly"), *spec = NULL;
	const char *from = type && !strcmp(type, "volume") ? name : source;
	int ret = 0;

	if (!type || !target || (strcmp(type, "tmpfs") && !from) ||
	    (strcmp(type, "tmpfs") && strcmp(type, "volume") && strcmp(type, "bind")))
		ret = dx_refuse(p, n, "a mount needs type (bind, volume, tmpfs), target, and a source or name");
	else if (strv_len(c->volumes) + strv_len(c->tmpfs) == META_LIST_MAX)
		ret = dx_refuse(p, n, "more than %d mounts", META_LIST_MAX);
	else if (!strcmp(type, "tmpfs"))
		ret = strv_push(&c->tmpfs, target);
	else if (asprintf(&spec, "%s:%s%s", from, target, ro ? ":ro" : "") < 0)
		ret = -ENOMEM;
	else
		ret = strv_push(&c->volumes, spec);
	if (ret == -ENOMEM)
		ret = err_set(p->e, ret, "out of memory");
	free(spec);
	free(type);
	free(name);
	free(source);
	free(target);
	free(ro);
	return ret;
}

static int element(struct parse *p, const xmlNode *n, struct domain_container *c)
{
	static const struct {
		const char *name;
		size_t off;
	} texts[] = {
		{ "id", offsetof(struct domain_container, id) },
		{ "name", offsetof(struct domain_container, name) },
		{ "image", offsetof(struct domain_container, image) },
		{ "imageId", offsetof(struct domain_container, image_id) },
		{ "workdir", offsetof(struct domain_container, workdir) },
		{ "user", offsetof(struct domain_container, user) },
		{ "hostname", offsetof(struct domain_container, hostname) },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (ours(n, texts[i].name))
			return take(p, n, (char **)((char *)c + texts[i].off));
	if (ours(n, "cmd"))
		return take_list(p, n, "arg", &c->argv);
	if (ours(n, "env"))
		return take_list(p, n, "var", &c->env);
	if (ours(n, "port"))
		return port(p, n, c);
	if (ours(n, "mount"))
		return mount(p, n, c);
	return dx_refuse(p, n, "not an element of vmm's container metadata");
}

static int check(struct parse *p, const xmlNode *n, struct domain_container *c)
{
	if (!c->id || strlen(c->id) != 64 || !hex_valid(c->id, 64))
		return dx_refuse(p, n, "needs <vmm:id>, the container's 64 hex digit ID");
	if (!c->name || !c->image_id || !c->argv || !c->argv[0])
		return dx_refuse(p, n, "needs <vmm:name>, <vmm:imageId> and a <vmm:cmd> with an <vmm:arg>");
	/* KEY alone would take the host's value of KEY (as -e KEY does): never from a document. */
	for (char **v = c->env; v && *v; v++)
		if (!strchr(*v, '=') || **v == '=')
			return dx_refuse(p, n, "<vmm:var>%.64s</vmm:var>: not KEY=VALUE", *v);
	return 0;
}

int domain_container_read(const struct domain_def *d, struct domain_container *c, struct error *e)
{
	struct parse p = { .e = e };
	xmlNode *root, *found = NULL;
	xmlDoc *doc;
	char *wrapped;
	int ret;

	memset(c, 0, sizeof(*c));
	if (!d->metadata || !strstr(d->metadata, DOMAIN_CONTAINER_XMLNS))
		return -ENOENT;
	if (asprintf(&wrapped, "<domain><metadata>%s</metadata></domain>", d->metadata) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	/* No network, no entities, no DTD: the same rules as the domain's own parse. */
	doc = xmlReadMemory(wrapped, (int)strlen(wrapped), "metadata.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(wrapped);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		xmlFreeDoc(doc);
		return err_set(e, -EINVAL, "/domain/metadata: not well-formed XML");
	}
	for (xmlNode *n = root->children ? root->children->children : NULL; n; n = n->next)
		if (ours(n, "container"))
			found = n;
	ret = found ? 0 : -ENOENT;
	for (xmlNode *n = found ? found->children : NULL; n && !ret; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			ret = element(&p, n, c);
	if (!ret && found)
		ret = check(&p, found, c);
	xmlFreeDoc(doc);
	if (ret)
		domain_container_free(c);
	return ret;
}

void domain_container_free(struct domain_container *c)
{
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->image_id);
	free(c->workdir);
	free(c->user);
	free(c->hostname);
	strv_free(c->argv);
	strv_free(c->env);
	strv_free(c->ports);
	strv_free(c->volumes);
	strv_free(c->tmpfs);
	memset(c, 0, sizeof(*c));
}
