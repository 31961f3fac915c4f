/*
 * The OCI runtime spec's config.json (a bundle's), parsed for `vmm oci`
 * (issue 19, docs/oci-runtime.md): what a micro-VM honours, in vmm's terms,
 * and a documented rule for the rest. The file comes from an engine or a
 * user and is hostile: bounded sizes, exact types, every field checked, one
 * error naming the field ("process.cwd: want an absolute path").
 *
 * Refused (one error): joining another process's namespace by path (except
 * the network one, which the VM joins through a tap), no pid or no network
 * namespace (docker's --pid host, --network host: the host's, which a VM
 * cannot share), linux.devices (device passthrough), a sysctl outside the
 * guest kernel's own (net.*, kernel.shm*, kernel.msg*, kernel.sem,
 * fs.mqueue.*), mount types a guest cannot make. Ignored and listed in
 * `ignored` (the VM is the boundary, or the guest has its own): seccomp,
 * AppArmor and SELinux labels, masked and read-only paths, user namespace
 * mappings, cgroup device rules, cpu shares and cpusets, memory swap and
 * reservation, a missing uts/ipc/mount/cgroup namespace.
 */
#ifndef VMM_OCI_SPEC_H
#define VMM_OCI_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct error;

#define OCI_SPEC_MAX		(1 << 20)	/* config.json bytes */
#define OCI_MAX_ARGS		4096
#define OCI_MAX_MOUNTS		256
#define OCI_MAX_HOOKS		32		/* of each kind */
#define OCI_MAX_GIDS		64
#define OCI_MAX_RLIMITS		16
#define OCI_CAP_SETS		5		/* bounding, effective, inheritable, permitted, ambient */

struct oci_rlimit {
	int resource;		/* RLIMIT_* */
	uint64_t soft, hard;
};

struct oci_mount {
	char *destination;	/* absolute, in the container */
	char *type;		/* "bind", "tmpfs", "proc", ... */
	char *source;		/* a bind's host path: absolute, or relative to the bundle */
	char **options;		/* NULL-terminated, or NULL */
	bool bind, readonly;
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART, OCI_HOOK_CREATE_RUNTIME, OCI_HOOK_CREATE_CONTAINER, OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART, OCI_HOOK_POSTSTOP, OCI_HOOK_KINDS,
};

struct oci_hook {
	char *path;		/* absolute */
	char **args, **env;	/* NULL-terminated, or NULL */
	unsigned timeout;	/* seconds; 0: none */
};

struct oci_spec {
	char *root;		/* root.path */
	bool root_readonly;
	char **args, **env;	/* process.args (at least one), process.env */
	char *cwd;
	bool terminal;
	uint32_t uid, gid;
	uint32_t gids[OCI_MAX_GIDS];
	size_t ngids;
	bool has_caps;		/* process.capabilities is there (else: the guest's root, all of them) */
	uint64_t caps[OCI_CAP_SETS];	/* bit n: capability n */
	bool no_new_privileges;
	struct oci_rlimit rlimits[OCI_MAX_RLIMITS];
	size_t nrlimits;
	char *hostname;		/* NULL: none */
	struct oci_mount *mounts;
	size_t nmounts;
	struct oci_hook *hooks[OCI_HOOK_KINDS];
	size_t nhooks[OCI_HOOK_KINDS];
	char **sysctl;		/* "key=value", for the guest; NULL-terminated, or NULL */
	uint64_t memory;	/* linux.resources.memory.limit; 0: none */
	double cpus;		/* cpu.quota / cpu.period; 0: none */
	int64_t pids;		/* pids.limit; 0: none */
	char *netns;		/* the network namespace's path to join; NULL: the VM's own */
	char **ignored;		/* what the rules above ignored, by field name */
};

#define OCI_SPEC_VERSION	"1.1.0"	/* the runtime spec version vmm follows */

/* The hook kind's name in config.json ("prestart", ...). */
const char *oci_hook_name(enum oci_hook_kind k);

/* `features` (runtime-spec features.md): what this runtime honours, from the tables the reader uses. */
json_object *oci_features_json(void);

/* Parse buf (len bytes) into out. 0, or -EINVAL (-E2BIG) with e naming the field; out is freed then. */
int oci_spec_parse(const char *buf, size_t len, struct oci_spec *out, struct error *e);
/* `exec --process F`: a process object alone, into out's process fields. The same contract. */
int oci_process_parse(const char *buf, size_t len, struct oci_spec *out, struct error *e);
void oci_spec_free(struct oci_spec *s);

#endif
