/*
 * Confinement of the VMM's own threads (docs/sandbox.md): what a thread may
 * still ask of the host kernel once the guest runs. A vCPU thread runs
 * KVM_RUN and the register-level device exits; a bug there, driven by a
 * hostile guest, meets a seccomp allow-list (libseccomp) and no_new_privs.
 */
#ifndef VMM_CONFINE_H
#define VMM_CONFINE_H

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

#endif
