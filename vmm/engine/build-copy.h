/* COPY and ADD, shared by their files (build-copy.c: the context; build-from.c: --from). */
#ifndef VMM_ENGINE_BUILD_COPY_H
#define VMM_ENGINE_BUILD_COPY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/oci/layer-writer.h"
#include "images/rootfs/lookup.h"
#include "vmm/engine/build-internal.h"

/* One COPY or ADD being made into a layer. */
struct copy {
	struct builder *b;
	struct stage *sg;
	const struct df_instr *in;
	struct layer_writer *lw;
	struct rootfs_image *fs;	/* the stage's filesystem, for the destination */
	bool chown;
	uint32_t uid, gid;
	bool chmod;
	mode_t mode;
	unsigned long files;
	struct link { dev_t dev; ino_t ino; char *path; } *links;	/* hard links seen */
	size_t nlinks;
	char **made;		/* folders this layer makes */
};

int copy_err(struct copy *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* dest (absolute, clean) and the missing folders above it, made in the layer when the stage lacks them. */
int copy_put_dir(struct copy *c, const char *dest);
/* The missing folders above path. */
int copy_put_parents(struct copy *c, const char *path);
/*
 * COPY --from=STAGE|IMAGE: the sources (absolute paths or globs in that
 * filesystem) to dest; into: dest is a folder.
 */
int copy_from(struct copy *c, const char *from, char *const *srcs, const char *dest, bool into);

#endif
