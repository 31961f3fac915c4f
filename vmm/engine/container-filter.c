/* docker ps's filters (container-filter.h). */
#include <stdio.h>

#include "vmm/engine/container-filter.h"
#include "vmm/engine/container.h"
#include "vmm/engine/filters.h"

const char *const container_filter_keys[] = { "status", "name", "id", "exited", "ancestor", "label", NULL };

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
	       filters_allow_labels(f, ct->cfg.labels) && filters_allow(f, "name", ct->cfg.name, FILTER_SUBSTRING);
}
