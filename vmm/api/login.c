/* POST /auth: docker login through the daemon, checked against the registry as vmm login does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "images/oci/registry.h"
#include "vmm/api/api.h"
#include "vmm/api/registry-auth.h"
#include "vmm/base/error.h"

#define DEFAULT_REGISTRY	"docker.io"	/* docker login without a server */

/* Ask host whether it takes a's credentials: 0 or -errno with e. */
static int check(const char *host, const struct api_auth *a, struct error *e)
{
	char label[AUTH_HOST_MAX + 16];
	struct registry_opts ro = { .label = label, .creds = &a->creds, .login = true,
				    .login_cmd = "docker login" };
	struct registry *reg;
	int ret;

	snprintf(label, sizeof(label), "login to %s", host);
	if ((ret = registry_open(host, &ro, &reg, e)))
		return ret;
	if ((ret = registry_ping(reg)))
		err_copy(e, registry_error(reg), ret);
	registry_close(reg);
	return ret;
}

/*
 * The body is docker's AuthConfig. Nothing is saved: the client keeps its
 * credentials and sends them with each pull and push (X-Registry-Auth).
 */
void api_auth(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *body = api_body_object(r, w), *o;
	struct error e = { 0 };
	struct api_auth a;
	int ret;

	(void)ctx;
	if (!body)
		return;
	ret = api_auth_from_json(body, "auth", &a, &e);
	json_object_put(body);
	if (ret) {
		api_reply_err(w, &e);
		return;
	}
	if (!a.given) {
		api_reply_error(w, 400, "auth: want a username and a password");
		return;
	}
	ret = check(a.server[0] ? a.server : DEFAULT_REGISTRY, &a, &e);
	api_auth_clear(&a);
	if (ret) {
		/* docker's 401 for refused credentials: its CLI prints the message */
		if (ret == -EACCES)
			api_reply_error(w, 401, "%s", e.msg);
		else
			api_reply_err(w, &e);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "Status", json_object_new_string("Login Succeeded"));
	json_object_object_add(o, "IdentityToken", json_object_new_string(""));
	api_reply_json(w, 200, o);
}
