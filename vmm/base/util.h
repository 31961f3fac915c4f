/* Small helpers shared by the VMM, the devices and the image code. */
#ifndef VMM_BASE_UTIL_H
#define VMM_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/*
 * Parse a size such as "4096", "64K", "128M", "4G", "1T" (powers of 1024; an
 * optional trailing "B"/"iB" is accepted). default_unit multiplies a bare
 * number (1 for bytes, MiB for --memory). Returns 0 or -EINVAL / -ERANGE.
 */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out);
/* Parse a decimal unsigned integer in [min, max]. Returns 0 or -EINVAL / -ERANGE. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* write() the whole buffer, retrying on EINTR and short writes. */
int write_full(int fd, const void *buf, size_t len);
int pread_full(int fd, void *buf, size_t len, off_t off);
/* pread_full, but past the end of the file reads zeros instead of failing. */
int pread_zero(int fd, void *buf, size_t len, off_t off);
int pwrite_full(int fd, const void *buf, size_t len, off_t off);
/*
 * Read fd from offset 0 to its end in 1 MiB pieces, passing each to fn; a
 * non-zero return from fn stops and is returned. *size (if set) gets the
 * bytes read. Returns 0, fn's error or -errno.
 */
int pread_each(int fd, int (*fn)(void *opaque, const void *buf, size_t len), void *opaque,
	       uint64_t *size);

/*
 * Open path below dirfd as if dirfd were "/": symlinks (absolute ones, "..")
 * resolve inside it, never outside (openat2 RESOLVE_IN_ROOT; without openat2,
 * no symlink is followed). O_NONBLOCK is added: a FIFO opens at once.
 * The fd, or -1 with errno.
 */
int open_in_root(int dirfd, const char *path, int flags);
/* The wall clock (CLOCK_REALTIME) in ns since the epoch. */
int64_t realtime_ns(void);
/* CLOCK_MONOTONIC in ns: for intervals. */
int64_t monotonic_ns(void);
/* Read what fd holds, up to its end, at most max bytes (-EFBIG beyond), NUL-terminated. */
int read_fd(int fd, size_t max, char **data, size_t *len);
/*
 * Read a whole file (at most max bytes) into a NUL-terminated malloc'd buffer.
 * Returns 0 or -errno (-EFBIG when larger than max).
 */
int read_file(int dirfd, const char *path, size_t max, char **data, size_t *len);
/*
 * Crash-safe replace: write to a temp file in the same directory, fsync it,
 * rename it over path, fsync the directory. Returns 0 or -errno.
 */
int write_file_atomic(int dirfd, const char *path, const void *data, size_t len, mode_t mode);

/* open(path, flags | O_CLOEXEC) and take an exclusive flock, waiting for it: the fd, or -errno. */
int open_locked(const char *path, int flags);
/* mkdir -p relative to dirfd (AT_FDCWD for the cwd). Returns 0 or -errno. */
int mkdir_p(int dirfd, const char *path, mode_t mode);
/* mkdir -p of the directory holding path. Returns 0 or -errno. */
int mkdir_parent(const char *path, mode_t mode);
/*
 * Is path a directory of ours that nobody else may write (not a symlink,
 * owned by the effective user, no group or other write)? 0, -ENOTDIR,
 * -EPERM (someone else's, or writable by others) or -errno.
 */
int dir_is_private(const char *path);
/*
 * rm -rf of name below dirfd without following any symlink (a tree a guest
 * wrote may hold links pointing anywhere). Returns 0 or -errno.
 */
int remove_tree(int dirfd, const char *name);

bool str_has_prefix(const char *s, const char *prefix);
/*
 * Make text from a guest, an image or a registry safe to print on a terminal,
 * in place: control characters (C0, DEL, C1) and bytes that are not UTF-8
 * become '?', so no escape sequence reaches the terminal. Tabs and newlines
 * become spaces when one_line.
 */
void str_sanitize(char *s, bool one_line);
bool str_has_suffix(const char *s, const char *suffix);

/* Format a byte count as docker does ("1.5MB", "12kB"): SI units. */
void format_size_si(uint64_t bytes, char *buf, size_t len);
/* Signal names and numbers: "KILL", "SIGTERM", "9". 0 on failure. */
int parse_signal(const char *s);
/* A duration as docker words it: "Less than a second", "5 seconds", "About a minute", "3 days". */
void format_duration(int64_t secs, char *buf, size_t len);
/* Format a byte count with binary units as qemu-img does ("64 KiB", "1 GiB"). */
void format_size_iec(uint64_t bytes, char *buf, size_t len);

#endif
