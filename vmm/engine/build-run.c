/* RUN: lands with the ext4 layer diff (images/rootfs/diff.h). */
#include <errno.h>

#include "vmm/base/error.h"
#include "vmm/engine/build-internal.h"

int build_run(struct builder *b, struct stage *sg, const struct df_instr *in, char **argv,
	      const char *shown, struct draft_layer *layer)
{
	(void)sg;
	(void)argv;
	(void)shown;
	(void)layer;
	return err_set(b->e, -ENOTSUP, "line %u: RUN is not wired yet", in->line);
}
