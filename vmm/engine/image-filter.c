/* docker images --filter, for the CLI and the Engine API alike. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/ref.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/engine/image-filter.h"

const char *const image_filter_keys[] = { "dangling", "reference", "label", NULL };

int image_filters_check(const struct filters *f, struct error *e)
{
	char *const *d = filters_get(f, "dangling");

	for (size_t i = 0; d && d[i]; i++)
		if (strcmp(d[i], "true") && strcmp(d[i], "false") && strcmp(d[i], "1") && strcmp(d[i], "0"))
			return err_set(e, -EINVAL, "invalid filter 'dangling=%s': dangling takes true or false",
				       d[i]);
	return 0;
}

/* --filter: dangling and reference on the index entry, label on the image config. */
bool image_entry_wanted(const struct filters *f, const struct image_entry *ve, const struct image *img)
{
	char *const *dangling = filters_get(f, "dangling"), *const *refs = filters_get(f, "reference");
	bool ok = true;

	for (size_t i = 0; dangling && dangling[i]; i++)
		ok &= !strcmp(dangling[i], "true") || !strcmp(dangling[i], "1") ? !ve->ref : ve->ref != NULL;
	if (ok && refs) {
		struct image_ref ref;
		char name[REF_STR_MAX], repo[REF_STR_MAX];

		ok = false;
		if (ve->ref && !ref_parse(ve->ref, 0, &ref, NULL)) {
			ref_format_short(&ref, name, sizeof(name));
			ref_format_short_repo(&ref, repo, sizeof(repo));
			for (size_t i = 0; refs[i] && !ok; i++)
				ok = !fnmatch(refs[i], name, FNM_PATHNAME) || !fnmatch(refs[i], repo, FNM_PATHNAME);
		}
	}
	if (ok && filters_get(f, "label")) {
		char **labels = NULL;

		for (size_t i = 0; img && img->config.label_keys && img->config.label_keys[i]; i++) {
			char *kv = NULL;

			if (asprintf(&kv, "%s=%s", img->config.label_keys[i], img->config.label_values[i]) >= 0)
				strv_push(&labels, kv);
			free(kv);
		}
		ok = img && filters_allow_labels(f, labels);
		strv_free(labels);
	}
	return ok;
}

