/* vmm oci: the OCI runtime command line, a front door of its own (vmm/oci/runtime.h). */
#include "vmm/cli/cli.h"
#include "vmm/oci/runtime.h"

int cmd_oci(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	return oci_runtime_main(argc, argv);
}
