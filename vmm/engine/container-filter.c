/* docker ps's filters (container-filter.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/store.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/container-filter.h"
#include "vmm/engine/container.h"
#include "vmm/engine/filters.h"

const char *const container_filter_keys[] = {
	"status", "name", "id", "exited", "ancestor", "label", "network", NULL,
};

/* docker's container states, the values status= takes. */
static const char *const states[] = { "created", "restarting", "running", "removing", "paused", "exited", "dead" };

static bool known_state(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(states); i++)
		if (!strcmp(s, states[i]))
			return true;
	return false;
}

static bool is_int(const char *s)
{
	char *end;

	if (!*s)
		return false;
	strtol(s, &end, 10);
	return !*end;
}

int container_filter_check(const char *root, struct filters *f, struct error *e)
{
	char **ancestors = (char **)filters_get(f, "ancestor");
	struct store *s = NULL;

	for (char *const *v = filters_get(f, "status"); v && *v; v++)
		if (!known_state(*v))
			return err_set(e, -EINVAL, "invalid filter 'status=%s' (created, restarting, running, "
				       "removing, paused, exited or dead)", *v);
	for (char *const *v = filters_get(f, "exited"); v && *v; v++)
		if (!is_int(*v))
			return err_set(e, -EINVAL, "invalid filter 'exited=%s' (an exit code)", *v);
	/* ancestor= names an image by any name or ID: match by its ID, as docker does */
	if (ancestors && store_open(root, &s, NULL))
		s = NULL;
	for (char **v = ancestors; s && v && *v; v++) {
		struct image *img;
		char *id;

		if (image_open(s, *v, &img, NULL))
			continue;	/* no such image: only a container of that name (its image gone) */
		id = strdup(img->config_digest);
		image_close(img);
		if (!id) {
			store_close(s);
			return err_set(e, -ENOMEM, "out of memory");
		}
		free(*v);
		*v = id;
	}
	if (s)
		store_close(s);
	return 0;
}

/* network=N: its first network or one of the others. */
static bool on_network(const struct filters *f, const struct net_config *n)
{
	char name[65];

	if (filters_allow(f, "network", netcfg_network_name(n), FILTER_EXACT))
		return true;
	for (char **m = n->more; m && *m; m++) {
		netcfg_more_split(*m, name);
		if (filters_allow(f, "network", name, FILTER_EXACT))
			return true;
	}
	return false;
}

bool container_wanted(const struct filters *f, const struct container *ct, const struct container_state *st,
		      bool all)
{
	char code[16];

	if (!all && st->status != CONTAINER_RUNNING && !filters_get(f, "status") && !filters_get(f, "exited"))
		return false;
	snprintf(code, sizeof(code), "%d", st->exit_code);
	if (filters_get(f, "exited") && st->status != CONTAINER_EXITED)
		return false;
	/* docker matches names as a pattern; a substring is what people type */
	return filters_allow(f, "status", container_state_name(st), FILTER_EXACT) &&
	       filters_allow(f, "exited", code, FILTER_EXACT) && filters_allow(f, "id", ct->cfg.id, FILTER_PREFIX) &&
	       (filters_allow(f, "ancestor", ct->cfg.image, FILTER_EXACT) ||
		filters_allow(f, "ancestor", ct->cfg.image_name ? ct->cfg.image_name : "", FILTER_EXACT)) &&
	       filters_allow_labels(f, ct->cfg.labels) && filters_allow(f, "name", ct->cfg.name, FILTER_SUBSTRING) &&
	       on_network(f, &ct->cfg.net);
}
