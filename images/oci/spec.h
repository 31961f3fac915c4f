/*
 * The JSON documents of an image, parsed and validated: descriptors, image
 * manifests (OCI and docker schema 2), image indexes (and docker manifest
 * lists), and image configs. Pure functions over a buffer: no I/O, no logging;
 * errors come back in a struct error for the caller to report with context.
 */
#ifndef VMM_IMAGES_OCI_SPEC_H
#define VMM_IMAGES_OCI_SPEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vmm/base/digest.h"
#include "vmm/base/json.h"

#define MT_OCI_MANIFEST		"application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX		"application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG		"application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER		"application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP	"application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD	"application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_MANIFEST	"application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST		"application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG	"application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER		"application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP	"application/vnd.docker.image.rootfs.diff.tar.gzip"

#define ANNOT_REF_NAME		"org.opencontainers.image.ref.name"
#define ANNOT_CONTAINERD_NAME	"io.containerd.image.name"

/* Limits on what we read from images. */
#define MANIFEST_MAX_SIZE	(4u << 20)
#define CONFIG_MAX_SIZE		(8u << 20)
#define INDEX_MAX_ENTRIES	4096
#define LAYERS_MAX		512
#define BLOB_MAX_SIZE		(1ULL << 40)	/* 1 TiB: sizes above are refused */

/* The platform vmm runs: images for anything else are refused. */
#define PLATFORM_OS		"linux"
#define PLATFORM_ARCH		"amd64"

enum compression {
	COMPRESSION_NONE,
	COMPRESSION_GZIP,
	COMPRESSION_ZSTD,
};

const char *compression_name(enum compression c);	/* "none", "gzip", "zstd" */

enum media_kind {
	MEDIA_UNKNOWN,
	MEDIA_MANIFEST,		/* OCI or docker schema 2 image manifest */
	MEDIA_INDEX,		/* OCI image index or docker manifest list */
	MEDIA_CONFIG,		/* OCI or docker image config */
	MEDIA_LAYER,		/* a layer tar, compression in *comp */
};

/* Classify a media type; *comp is set for layers. */
enum media_kind media_type_kind(const char *media_type, enum compression *comp);

struct descriptor {
	char *media_type;
	char digest[DIGEST_BUF];
	uint64_t size;
	char *ref_name;			/* annotation org.opencontainers.image.ref.name or NULL */
	char *platform_os;		/* platform (index entries) or NULL */
	char *platform_arch;
	char *platform_variant;
	json_object *annotations;	/* all annotations (a reference we own) or NULL */
};

struct manifest {
	char *media_type;		/* as written, or MT_OCI_MANIFEST when absent */
	struct descriptor config;
	struct descriptor *layers;
	size_t n_layers;
	json_object *annotations;	/* or NULL */
};

struct oci_index {
	char *media_type;		/* NULL when absent */
	struct descriptor *manifests;
	size_t n_manifests;
	json_object *annotations;
};

struct image_port {
	uint16_t port;
	char proto[5];			/* "tcp", "udp", "sctp" */
};

struct image_history {
	char *created;			/* RFC 3339 or NULL */
	char *created_by, *author, *comment;	/* or NULL */
	bool empty_layer;
};

/* What an image config says about the container to run. Unset fields are NULL. */
struct image_config {
	char *architecture, *os, *variant;
	char *created;			/* RFC 3339 as written, or NULL */
	int64_t created_time;		/* seconds since the epoch, 0 when unknown */
	char *author;
	char **entrypoint;		/* NULL-terminated, NULL when unset */
	char **cmd;
	char **env;			/* "KEY=value" */
	char *working_dir;
	char *user;
	char *stop_signal;
	struct image_port *ports;
	size_t n_ports;
	char **volumes;			/* paths, NULL when none */
	char **label_keys, **label_values;	/* parallel, NULL-terminated */
	char **diff_ids;		/* rootfs.diff_ids, NULL-terminated, never NULL */
	struct image_history *history;
	size_t n_history;
};

void descriptor_free(struct descriptor *d);
/* Validate a descriptor object (mediaType, digest, size, annotations, platform). */
int descriptor_parse(json_object *o, const char *ctx, struct descriptor *d, struct error *e);
/* Build a descriptor object for output (mediaType, digest, size, annotations). */
json_object *descriptor_to_json(const struct descriptor *d);

int manifest_parse(const char *buf, size_t len, struct manifest *m, struct error *e);
void manifest_free(struct manifest *m);
/* Serialize an OCI image manifest (used for images loaded from docker archives). */
char *manifest_to_json(const struct manifest *m);

int index_parse(const char *buf, size_t len, struct oci_index *idx, struct error *e);
void index_free(struct oci_index *idx);
char *index_to_json(const struct oci_index *idx);

int config_parse(const char *buf, size_t len, struct image_config *c, struct error *e);
void config_free(struct image_config *c);

/* Parse RFC 3339 ("2024-01-02T03:04:05.123Z", "+02:00" offsets) into seconds. 0 or -EINVAL. */
int rfc3339_parse(const char *s, int64_t *out);

/* Whether a platform (from an index entry or a config) is one vmm can run. */
bool platform_supported(const char *os, const char *arch);

#endif
