/*
 * A libvirt domain, as far as vmm runs it: the subset of libvirt's domain XML
 * that describes a direct-boot micro-VM (docs/libvirt.md has the table). The
 * XML comes from users and other tools, so parsing is strict and bounded, and
 * every refusal names the element's XPath.
 */
#ifndef VMM_DOMAIN_DOMAIN_H
#define VMM_DOMAIN_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/base/error.h"

#define DOMAIN_NAME_MAX		64
#define DOMAIN_XML_MAX		(1024 * 1024)	/* bytes of XML we agree to parse */
#define DOMAIN_MAX_DISKS	8
#define DOMAIN_MAX_NICS		1
#define DOMAIN_MAX_FORWARDS	32
#define DOMAIN_MAX_FS		8	/* virtio-fs shares (the machine's limit) */

/* What happens when the guest powers off, reboots or crashes. */
enum domain_action { DOMAIN_DESTROY, DOMAIN_RESTART };

enum domain_disk_format { DOMAIN_DISK_RAW, DOMAIN_DISK_QCOW2 };

struct domain_disk {
	char *source;			/* <source file> */
	enum domain_disk_format format;	/* <driver type> */
	char *target;			/* <target dev>: vda, vdb, ... */
	bool read_only;			/* <readonly/> */
	char *serial;			/* <serial>, NULL: none */
	char *backing;			/* <backingStore><source file>, NULL: none stated */
	enum domain_disk_format backing_format;
};

enum domain_net_type { DOMAIN_NET_USER, DOMAIN_NET_ETHERNET };

struct domain_forward {
	bool udp;
	char *address;			/* host address, NULL: any */
	uint16_t start, end, to;	/* host ports start..end go to guest port to.. */
};

struct domain_nic {
	enum domain_net_type type;
	uint8_t mac[6];
	bool has_mac;
	char *tap;			/* ethernet: <target dev> */
	struct domain_forward forwards[DOMAIN_MAX_FORWARDS];
	unsigned nforwards;
};

/* <filesystem type='mount'> with <driver type='virtiofs'>: a host folder over virtio-fs. */
struct domain_fs {
	char *source;			/* <source dir> */
	char *tag;			/* <target dir>: the tag the guest mounts */
	bool read_only;			/* <readonly/> */
	char *binary;			/* <binary path>: the virtiofsd to run, NULL: vmm finds one */
};

enum domain_chardev { DOMAIN_CHR_NONE, DOMAIN_CHR_PTY, DOMAIN_CHR_FILE };

struct domain_def {
	char *name;
	uint8_t uuid[16];
	bool has_uuid;
	uint64_t memory;		/* bytes */
	unsigned vcpus;
	char *kernel, *initrd, *cmdline;
	enum domain_action on_poweroff, on_reboot, on_crash;
	struct domain_disk disks[DOMAIN_MAX_DISKS];
	unsigned ndisks;
	struct domain_nic nics[DOMAIN_MAX_NICS];
	unsigned nnics;
	struct domain_fs fs[DOMAIN_MAX_FS];
	unsigned nfs;
	enum domain_chardev serial;
	char *serial_path;		/* DOMAIN_CHR_FILE */
	bool vsock;
	uint32_t vsock_cid;
	bool rng;
	char *metadata;			/* our <vmm:container> element, serialized; NULL: none */
};

/* Parse and check domain XML (at most DOMAIN_XML_MAX bytes). 0, or -errno with e set. */
int domain_parse(const char *xml, size_t len, struct domain_def *d, struct error *e);
/* Domain XML for d, as libvirt writes it (validates against libvirt's schema). malloc'd. */
char *domain_format(const struct domain_def *d);
void domain_free(struct domain_def *d);

/* A name libvirt and our store both accept: [A-Za-z0-9_.+-], not starting with '.' or '-'. */
bool domain_name_valid(const char *name);
/* Fill d->uuid with a random version-4 UUID. */
int domain_uuid_generate(struct domain_def *d);
void domain_uuid_format(const uint8_t uuid[16], char out[37]);
int domain_uuid_parse(const char *s, uint8_t uuid[16]);

#endif
