/* Domain XML to and from a libvirt connection (see libvirt-conn.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/domain/libvirt-conn.h"
#include "vmm/domain/domain.h"

#ifdef HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* libvirt prints every error to stderr unless told otherwise; ours are printed once, at the top. */
static void quiet(void *opaque, virErrorPtr err)
{
}

/* libvirt's last error as e's one line: "what: libvirt's message". */
static int lv_fail(struct error *e, const char *what)
{
	virErrorPtr last = virGetLastError();
	int ret = last && last->code == VIR_ERR_NO_DOMAIN ? -ENOENT : -EIO;

	err_set(e, ret, "%s: %s", what, virGetLastErrorMessage());
	for (char *c = e ? e->msg : NULL; c && *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return ret;
}

static int lv_open(const char *uri, virConnectPtr *conn, struct error *e)
{
	virSetErrorFunc(NULL, quiet);
	*conn = virConnectOpen(uri);
	return *conn ? 0 : lv_fail(e, uri);
}

int domain_libvirt_version(char *buf, size_t len, struct error *e)
{
	unsigned long v = 0;

	virSetErrorFunc(NULL, quiet);
	if (virGetVersion(&v, NULL, NULL) < 0)
		return lv_fail(e, "libvirt version");
	if (buf)
		snprintf(buf, len, "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
	return 0;
}

int domain_libvirt_get_xml(const char *uri, const char *name, char **xml, size_t *len,
			   struct error *e)
{
	virConnectPtr conn;
	virDomainPtr dom;
	char what[512], *desc = NULL;
	int ret = lv_open(uri, &conn, e);

	if (ret)
		return ret;
	snprintf(what, sizeof(what), "%s: domain '%s'", uri, name);
	dom = virDomainLookupByName(conn, name);
	if (dom)
		desc = virDomainGetXMLDesc(dom, 0);
	if (!desc)
		ret = lv_fail(e, what);
	else if ((*len = strnlen(desc, DOMAIN_XML_MAX + 1)) > DOMAIN_XML_MAX)
		ret = err_set(e, -EFBIG, "%s: larger than %d bytes; not a domain definition", what,
			      DOMAIN_XML_MAX);
	if (!ret)
		*xml = desc;
	else
		free(desc);
	if (dom)
		virDomainFree(dom);
	virConnectClose(conn);
	return ret;
}

int domain_libvirt_define(const char *uri, const char *name, const char *xml, struct error *e)
{
	virConnectPtr conn;
	virDomainPtr dom;
	char what[512];
	int ret = lv_open(uri, &conn, e);

	if (ret)
		return ret;
	dom = virDomainDefineXML(conn, xml);
	if (dom) {
		virDomainFree(dom);
	} else {
		snprintf(what, sizeof(what), "%s: domain '%s'", uri, name);
		ret = lv_fail(e, what);
	}
	virConnectClose(conn);
	return ret;
}

#else	/* !HAVE_LIBVIRT */

static int unsupported(struct error *e)
{
	return err_set(e, -ENOTSUP, "this vmm was built without libvirt "
		       "(install libvirt-dev, scripts/install-deps.sh, and rebuild vmm)");
}

int domain_libvirt_version(char *buf, size_t len, struct error *e)
{
	return unsupported(e);
}

int domain_libvirt_get_xml(const char *uri, const char *name, char **xml, size_t *len,
			   struct error *e)
{
	return unsupported(e);
}

int domain_libvirt_define(const char *uri, const char *name, const char *xml, struct error *e)
{
	return unsupported(e);
}

#endif
