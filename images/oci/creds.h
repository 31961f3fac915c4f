/*
 * Registry credentials in docker's config format:
 *   {"auths": {"host:5000": {"auth": base64("user:password")}}}
 * vmm writes its own file (vmm login, mode 0600, replaced atomically) and
 * also reads docker's ~/.docker/config.json. Keys are compared after
 * registry_host_normalize(), so "https://index.docker.io/v1/" (docker's key
 * for docker hub) matches "docker.io".
 */
#ifndef VMM_IMAGES_OCI_CREDS_H
#define VMM_IMAGES_OCI_CREDS_H

#include <stddef.h>

struct error;

#define CREDS_FILE_MAX	(1u << 20)

struct creds {
	char user[256];
	char pass[1024];
	const char *file;	/* where they came from (one of the looked-up paths), or NULL */
};

/*
 * docker's "auth" value, base64 of "user:password", into c's user and pass.
 * 0, -EINVAL (not base64 of user:password) or -ENAMETOOLONG (a part too long);
 * the decoded bytes are wiped.
 */
int creds_from_auth(const char *b64, struct creds *c);
/*
 * Hosts are normalized here (registry_host_normalize) before they are compared or filed.
 *
 * Look host up in files (NULL-terminated; entries may be NULL
 * or missing files), the first file that has it winning. 0 when found,
 * -ENOENT when none has it; unreadable or corrupt files are logged as
 * warnings and skipped.
 */
int creds_lookup(const char *const *files, const char *host, struct creds *out);

/*
 * Set host's credentials in file (created 0600 with its directory 0700 when
 * missing; other entries and keys are kept). 0 or -errno with e.
 */
int creds_save(const char *file, const char *host, const struct creds *c, struct error *e);

/* Remove host's entry from file: 0, -ENOENT (no message) when it had none, -errno with e. */
int creds_remove(const char *file, const char *host, struct error *e);

#endif
