/*
 * Domain XML to and from a libvirt connection (virsh's URIs: qemu:///system,
 * test+unix:///default?socket=PATH, ...). Optional: without libvirt at build
 * time (no HAVE_LIBVIRT) every call fails with -ENOTSUP and says how to get it.
 * libvirt's own error printing is silenced; its message comes back in e.
 */
#ifndef VMM_DOMAIN_LIBVIRT_CONN_H
#define VMM_DOMAIN_LIBVIRT_CONN_H

#include <stddef.h>

#include "vmm/base/error.h"

/*
 * 0 when this vmm links libvirt, with the library's version ("9.0.0") in buf;
 * -ENOTSUP with e saying how to get it when it was built without.
 */
int domain_libvirt_version(char *buf, size_t len, struct error *e);
/*
 * The definition of domain name at uri, as libvirt keeps it (virDomainGetXMLDesc
 * with no flags): malloc'd, at most DOMAIN_XML_MAX bytes, in *xml and *len.
 * It is only read, not checked: hand it to domain_parse like any other input.
 */
int domain_libvirt_get_xml(const char *uri, const char *name, char **xml, size_t *len,
			   struct error *e);
/* Define xml (a domain named name) in libvirt at uri (virDomainDefineXML). */
int domain_libvirt_define(const char *uri, const char *name, const char *xml, struct error *e);

#endif
