/*
 * vmm oci, also run as vmm-runtime: the OCI runtime command line that podman,
 * CRI-O and containerd call (runc's interface; docs/oci-runtime.md), a front
 * door beside the CLI. Built so far: the global options, --version, features,
 * and errors in the log format the engine asked for. The container verbs are
 * issue 19's next step.
 */
#ifndef VMM_OCI_RUNTIME_H
#define VMM_OCI_RUNTIME_H

/* argv[0] is the command's name (oci, vmm-runtime); the exit status. */
int oci_runtime_main(int argc, char **argv);

#endif
