/*
 * Registry credentials as docker clients send them: the X-Registry-Auth
 * header of a pull or push (base64url of an AuthConfig JSON object, padded or
 * not; standard base64 is taken too) and the body of POST /auth (the same
 * object, plain). Both are hostile: bounded, strict JSON, exact types.
 * Unknown keys are ignored, as dockerd does.
 */
#ifndef VMM_API_REGISTRY_AUTH_H
#define VMM_API_REGISTRY_AUTH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "images/oci/auth.h"
#include "images/oci/creds.h"

struct error;

#define API_AUTH_HEADER_MAX	(64u << 10)
#define API_AUTH_SOURCE		"X-Registry-Auth"	/* creds.file for credentials from the client */

struct api_auth {
	bool given;			/* a user name and password came: else anonymous */
	struct creds creds;		/* when given; wiped by api_auth_clear() */
	char server[AUTH_HOST_MAX];	/* "serveraddress" normalized ("docker.io" for docker's hub), or "" */
};

/*
 * An AuthConfig object: "username" + "password", or "auth" (base64
 * "user:password", which wins as in docker's config.json). "identitytoken"
 * and "registrytoken" are refused (-EINVAL): the registry client speaks
 * passwords only. No user and no password is anonymous. ctx names the
 * source in messages, which never hold a value.
 */
int api_auth_from_json(json_object *o, const char *ctx, struct api_auth *out, struct error *e);
/* The X-Registry-Auth header (len bytes; NULL or "" is anonymous). 0 or -EINVAL with e. */
int api_auth_decode(const char *hdr, size_t len, struct api_auth *out, struct error *e);
void api_auth_clear(struct api_auth *a);

#endif
