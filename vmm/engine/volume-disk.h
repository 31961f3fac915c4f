/*
 * Volumes of a size (`vmm volume create --opt size=SIZE`): an ext4 disk
 * image beside the volume's _data folder, mounted on it through a loop
 * device when a container first uses it, and unmounted when the volume is
 * removed. The host kernel's ext4 refuses writes past the size (ENOSPC in
 * the guest); the guest still reaches the files only through virtiofsd,
 * never the image's bytes. docs/volumes.md.
 */
#ifndef VMM_ENGINE_VOLUME_DISK_H
#define VMM_ENGINE_VOLUME_DISK_H

#include <stdbool.h>
#include <stdint.h>

struct error;

#define VOLUME_DISK	"disk.img"
#define VOLUME_SIZE_MIN	(16ULL << 20)
#define VOLUME_SIZE_MAX	(16ULL << 40)

/* Make DIR/disk.img: an empty ext4 of size bytes. 0 or -errno with e. */
int volume_disk_create(const char *dir, uint64_t size, struct error *e);
/* Is DIR a sized volume (does it hold disk.img)? */
bool volume_disk_present(const char *dir);
/* Mount DIR/disk.img on DIR/_data unless it is mounted already (needs root). 0 or -errno with e. */
int volume_disk_mount(const char *dir, struct error *e);
/* Unmount DIR/_data if something is mounted there. 0, or -EBUSY/-errno with e. */
int volume_disk_unmount(const char *dir, struct error *e);

#endif
