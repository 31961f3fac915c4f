/* Shared between the disk backends: opening chains, backing policy, file helpers. */
#ifndef VMM_IMAGES_DISK_DISK_PRIV_H
#define VMM_IMAGES_DISK_DISK_PRIV_H

#include <sys/types.h>

#include "images/disk/disk.h"

/* Deepest backing chain we follow (qemu-img has no limit; 64 is plenty). */
#define DISK_MAX_CHAIN 64

/* The files of a chain being opened, to refuse loops and absurd depth. */
struct disk_chain {
	unsigned depth;
	dev_t dev[DISK_MAX_CHAIN + 1];
	ino_t ino[DISK_MAX_CHAIN + 1];
};

/* Open fd (owned on success and failure); fmt DISK_FMT_AUTO probes. 0 or -errno with e. */
int disk_open_fd(int fd, const char *path, enum disk_format fmt,
		 const struct disk_open_opts *opts, struct disk_chain *chain,
		 struct disk **out, struct error *e);
/* Open fd (owned on success and failure) as the given format. 0 or -errno with e. */
int raw_open_fd(int fd, const char *path, bool read_only, struct disk **out, struct error *e);
int qcow2_open_fd(int fd, const char *path, const struct disk_open_opts *opts,
		  struct disk_chain *chain, struct disk **out, struct error *e);

/*
 * Open the backing file `name` of image `image_path` read-only, applying the
 * backing-file policy (see disk.h). fmt may be DISK_FMT_AUTO (probe).
 */
int disk_backing_open(const char *image_path, const char *name, enum disk_format fmt,
		      const struct disk_open_opts *opts, struct disk_chain *chain,
		      struct disk **out, struct error *e);

/* Size of a regular file or block device. */
int disk_fd_size(int fd, uint64_t *size);

#endif
