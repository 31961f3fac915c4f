/* qcow2 image tools: create, inspect, check, resize, compressed writes (vmm disk). */
#ifndef VMM_IMAGES_DISK_QCOW2_H
#define VMM_IMAGES_DISK_QCOW2_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "images/disk/disk.h"

struct error;

struct qcow2_create_opts {
	uint64_t size;			/* virtual size in bytes */
	uint32_t cluster_size;		/* 512 B .. 2 MiB, power of two; 0 = 64 KiB */
	uint32_t version;		/* 2 (compat 0.10) or 3 (compat 1.1, default) */
	uint32_t refcount_bits;		/* 1..64, power of two; 0 = 16 */
	const char *backing_file;	/* stored as given */
	const char *backing_fmt;	/* "raw" / "qcow2" or NULL */
	bool lazy_refcounts;
};

/* Create (replace) path as an empty qcow2 image. 0 or -errno with e. */
int qcow2_create(const char *path, const struct qcow2_create_opts *opts, struct error *e);

/* Facts about an open qcow2 image, as `qemu-img info` shows them. */
struct qcow2_info {
	uint32_t version;
	uint64_t cluster_size;
	uint32_t refcount_bits;
	bool dirty, corrupt, lazy_refcounts, extended_l2;
	const char *compression;	/* "zlib" / "zstd" */
	const char *backing_file;	/* as stored, or NULL */
	const char *backing_fmt;	/* from the header extension, or NULL */
	uint32_t nb_snapshots;
	uint64_t image_end;		/* host file size */
};
/* d must be a qcow2 disk; strings point into d. */
void qcow2_get_info(struct disk *d, struct qcow2_info *info);
bool disk_is_qcow2(struct disk *d);

/*
 * Write one whole cluster compressed (zlib, as qemu-img convert -c). The
 * cluster must be unallocated. 0 or -errno with d->err.
 */
int qcow2_write_compressed(struct disk *d, const void *buf, uint64_t cluster_index);
uint64_t qcow2_cluster_size(struct disk *d);

/* Grow the virtual size (shrinking is refused). 0 or -errno with d->err. */
int qcow2_resize(struct disk *d, uint64_t new_size);

enum qcow2_fix { QCOW2_FIX_NONE = 0, QCOW2_FIX_LEAKS = 1, QCOW2_FIX_ERRORS = 2 };

struct qcow2_check_result {
	uint64_t corruptions, leaks;
	uint64_t corruptions_fixed, leaks_fixed;
	uint64_t check_errors;		/* internal errors: check not completed */
	uint64_t allocated_clusters, total_clusters;
	uint64_t fragmented_clusters, compressed_clusters;
	uint64_t image_end_offset;
};

/*
 * Check the refcounts and tables of the qcow2 image at path and, with fix,
 * repair leaks (QCOW2_FIX_LEAKS) and refcount / OFLAG_COPIED errors
 * (QCOW2_FIX_ERRORS: refcounts are rebuilt). Problems are printed to out,
 * one line each, as qemu-img check does. Returns 0 when the check ran
 * (whatever it found), -errno with e when it could not.
 */
int qcow2_check_file(const char *path, int fix, FILE *out, struct qcow2_check_result *res,
		     struct error *e);

#endif
