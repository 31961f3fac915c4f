/*
 * Confinement of the VMM's own threads (docs/sandbox.md): what a thread may
 * still ask of the host kernel once the guest runs. A vCPU thread runs
 * KVM_RUN and the register-level device exits; a bug there, driven by a
 * hostile guest, meets a seccomp allow-list (libseccomp) and no_new_privs.
 */
#ifndef VMM_CONFINE_H
#define VMM_CONFINE_H

#include <stdbool.h>

struct error;

/*
 * The calling thread only (no TSYNC): no_new_privs, then the vCPU role's
 * allow-list. A call outside it fails with EPERM. 0 or -errno with e.
 */
int confine_vcpu_thread(struct error *e);

/*
 * The whole process, once it holds a VM: no core dump (it would write the
 * guest's memory to the host's disk). 0 or -errno with e.
 */
int confine_process_limits(struct error *e);

/* The event loop's role (confine_loop_thread). */
struct confine_loop {
	bool inet;	/* AF_INET and AF_INET6 sockets: libslirp's connections for the guest */
	bool log;	/* debugging (VMM_CONFINE=log): calls outside the list pass, logged by the kernel */
};

/*
 * The calling thread, and the threads it starts after (vCPU threads add
 * their own list on top): no_new_privs and the event loop's allow-list. A
 * call outside it fails with EPERM. Load it single-threaded, after
 * confine_jail and confine_drop_caps. 0 or -errno with e.
 */
int confine_loop_thread(const struct confine_loop *o, struct error *e);

/* What stays in view of the VMM (vmm/jail.c): NULL-ended lists of names. */
struct confine_jail {
	const char *const *dirs;	/* folders, writable as before */
	const char *const *files;	/* files if they exist: read-only, or device nodes under /dev/ */
};

/*
 * A mount namespace of the process's own (through a user namespace of its
 * own when not root) whose root is a read-only tmpfs holding /proc/self and
 * j's entries at their own paths. Call it single-threaded, once every other
 * name the process needs is open. 0; 1 with e saying why when the host
 * allows no such namespace (unshare refused: a container without
 * CAP_SYS_ADMIN, user namespaces turned off) or a folder to keep is / itself,
 * nothing changed; or -errno with e.
 */
int confine_jail(const struct confine_jail *j, struct error *e);

/* Every capability gone: effective, permitted, inheritable, ambient and bounding. */
int confine_drop_caps(struct error *e);

/* $VMM_CONFINE: on (unset), log (the filter logs instead of refusing) or off. */
enum confine_mode { CONFINE_ON, CONFINE_LOG, CONFINE_OFF };

/* The mode $VMM_CONFINE asks for: 0, or -EINVAL with e naming the value. */
int confine_mode(enum confine_mode *mode, struct error *e);

/* A whole VMM process shut in (vmm/confine-vmm.c). */
struct confine_vmm {
	const char *who;		/* "container NAME": the warning when the host allows no jail */
	const char *const *dirs;	/* the folders it still uses (NULL-ended), writable */
	struct confine_loop loop;
};

/*
 * The machine's confine hook (vm_start), everything open and no guest
 * instruction run yet: confine_jail (c->dirs, and the files every VMM
 * reads: /dev/null, /dev/urandom, and /etc/resolv.conf for libslirp when
 * c->loop.inet; a host that allows no jail gets one warning, and the rest
 * still), confine_drop_caps, confine_loop_thread. 0, or -errno with e.
 */
int confine_vmm(const struct confine_vmm *c, struct error *e);
/* The same as machine_config.confine, with confine_opaque the struct confine_vmm. */
int confine_vmm_hook(void *confine_vmm, struct error *e);

#endif
