/*
 * Creating a container (`vmm run`): resolve the image, turn the user's
 * flags and the image's config into the container's config (docker's rules
 * for entrypoint, command, environment, working directory, user, limits and
 * published ports), make sure the image's base disk exists, and create the
 * container's directory with its overlay disk. Starting it is lifecycle.h.
 */
#ifndef VMM_ENGINE_CREATE_H
#define VMM_ENGINE_CREATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/engine/logfile.h"
#include "vmm/engine/netcfg.h"
#include "vmm/engine/paths.h"
#include "vmm/engine/restart.h"

struct container;
struct error;
struct mount_spec;
struct image;
struct image_config;

#define CREATE_MEMORY_MIN (6ULL << 20)	/* docker's least --memory */
#define VM_MEMORY_DEFAULT (128ULL << 20)	/* a container VM's RAM without --memory */
#define VM_MEMORY_OVERHEAD (96ULL << 20)	/* guest kernel and agent besides the container's limit */

/* What the user asked for; strings are borrowed. */
struct create_config {
	const char *image;		/* name, reference or ID */
	char *const *cmd;		/* after IMAGE: replaces its Cmd; NULL or empty: the image's */
	const char *name;		/* NULL: a docker-like random name */
	const char *entrypoint;		/* NULL: the image's; "": none (resets Cmd too) */
	const char *workdir, *user, *hostname;	/* NULL: the image's, or defaults */
	char *const *env;		/* -e entries in order (KEY=VALUE, or KEY: ours) */
	char *const *env_files;		/* --env-file, applied before -e */
	char *const *labels;		/* --label KEY=VALUE (KEY alone: an empty value) */
	bool tty, interactive, read_only, auto_remove;
	bool stdin_once;	/* the API's StdinOnce (docker run -i) */
	struct restart_policy restart;	/* --restart */
	bool init;			/* --init */
	uint64_t memory;		/* bytes; 0: no limit */
	double cpus;			/* 0: no limit */
	int64_t pids_limit;		/* 0: no limit */
	int64_t timeout_ns;		/* --timeout; 0: none */
	uint64_t storage_size;		/* --storage-opt size: the root disk's bytes; 0: the default */
	struct log_opts log;		/* --log-opt */
	const struct net_config *net;	/* mode, ports, DNS, hosts as parsed from the flags */
	bool publish_all;		/* -P: the image's exposed ports on free host ports */
	const struct mount_spec *mounts;	/* -v, --mount, --tmpfs in order */
	unsigned nmounts;
	char *const *volumes_from;	/* --volumes-from CONTAINER[:ro|:rw], NULL-terminated or NULL */
	const char *virtiofsd;		/* --virtiofsd PATH, or NULL: $VMM_VIRTIOFSD, or found */
};

struct run_net_opts;
struct run_mount_opts;
/* Point c at what run's network and mount options decoded (the CLI's flags, the API's HostConfig). */
void create_config_options(struct create_config *c, const struct run_net_opts *net,
			   const struct run_mount_opts *mounts);

/*
 * Create the container. Nothing is left behind on failure: a taken host
 * port or a missing tap device is found before anything is created.
 * 0, or -errno with e.
 */
int engine_create(const struct paths *p, const struct create_config *c, struct container **out,
		  struct error *e);

/* --memory (0: no limit) and --cpus (0: no limit): the limits and the VM's size that follow from them. */
struct container_config;
void create_set_memory(struct container_config *cc, uint64_t memory);
void create_set_cpus(struct container_config *cc, double cpus);

/*
 * The container's network config from the flags: checked against each
 * other, -P expanded from the image's ExposedPorts (ic may be NULL), a MAC
 * chosen. 0 or -errno with e.
 */
int engine_net_config(const struct net_config *flags, bool publish_all, const struct image_config *ic,
		      struct net_config *out, struct error *e);

/*
 * The image's base disk, built once per image (and per size: 0 is the
 * default) into $VMM_ROOT/disks/: its path in path.
 */
int engine_image_disk(const struct image *img, uint64_t size, char *path, size_t len, struct error *e);

/* One --storage-opt (docker's StorageOpt) KEY and VALUE: size=SIZE is the one there is. */
int storage_opt_set(const char *key, const char *value, uint64_t *size, struct error *e);

#endif
