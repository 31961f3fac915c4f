/*
 * Internals of `vmm oci` (runtime.h): the global options every verb shares,
 * the one error line (stderr and --log), and the verbs. A container of the
 * runtime is an engine container in the --root store, named by its OCI ID,
 * whose root is the bundle's folder (container_config.rootfs) and whose vmm
 * process (the pid in --pid-file) holds the VM from create to its end.
 */
#ifndef VMM_OCI_OCI_H
#define VMM_OCI_OCI_H

#include <stdbool.h>
#include <json-c/json.h>

#include "vmm/engine/paths.h"
#include "vmm/oci/spec.h"

struct container;
struct container_config;
struct error;

#define OCI_ROOT_DEFAULT	"/run/vmm-runtime"

struct oci_cli {
	const char *log;	/* --log: where errors go besides stderr; NULL: stderr only */
	bool json;		/* --log-format json */
	struct paths paths;	/* root: --root; runtime: its run/ (control sockets) */
	char runtime[4096];
};

/* One error: on stderr, and in --log as logrus writes it (runc's format). Returns 1. */
int oci_fail(const struct oci_cli *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The container called id, exactly (not an ID prefix). -ENOENT with e: "container ID does not exist". */
int oci_open(const struct oci_cli *o, const char *id, struct container **ct, struct error *e);
/* Remove its folder and its control socket's (not while its vmm process runs). 0 or -errno. */
int oci_remove(const struct oci_cli *o, struct container *ct);
/* The runtime spec's state of it (state.md): ociVersion, id, status, pid, bundle. */
json_object *oci_state_json(const struct container *ct);
/* Its bundle's config.json, read again (hooks at start and delete). 0 or -errno with e. */
int oci_bundle_spec(const char *bundle, struct oci_spec *s, struct error *e);
/*
 * The engine container that runs bundle's spec s (bundle.c): the root
 * folder, the process, the mounts a guest can take, the limits. Strings are
 * owned by c (container_config_free). 0, or -errno with e naming the field.
 */
int oci_bundle_config(const char *bundle, const struct oci_spec *s, struct container_config *c,
		      struct error *e);
/*
 * linux.namespaces' network path: c runs in that namespace, the guest in place
 * of its interface (a tap redirected to it, that interface's address, MAC and
 * gateway in c->net). 0, or -errno with e.
 */
int oci_netns_config(const char *path, struct container_config *c, struct error *e);
/* Run the spec's hooks of kind k with state on their stdin (hooks.c). 0, or -errno with e. */
int oci_hooks_run(const struct oci_spec *s, enum oci_hook_kind k, json_object *state, struct error *e);

/* A pty for process.terminal: its master goes to the engine over --console-socket. Slave fd or -errno. */
int oci_console(const char *socket_path, struct error *e);
/* --pid-file: pid, written whole or not at all. 0 or -errno with e. */
int oci_pid_file(const char *path, int pid, struct error *e);

int oci_create(struct oci_cli *o, int argc, char **argv);
int oci_start(struct oci_cli *o, int argc, char **argv);
int oci_state(struct oci_cli *o, int argc, char **argv);
int oci_kill(struct oci_cli *o, int argc, char **argv);
int oci_delete(struct oci_cli *o, int argc, char **argv);
int oci_ps(struct oci_cli *o, int argc, char **argv);
int oci_pause(struct oci_cli *o, int argc, char **argv);
int oci_resume(struct oci_cli *o, int argc, char **argv);
int oci_exec(struct oci_cli *o, int argc, char **argv);

#endif
