/*
 * docker images --filter: dangling=true|false (untagged or not),
 * reference=PATTERN (path.Match on the familiar name or repository: busy*,
 * busybox:1*), label=KEY[=VALUE] (the image config's labels).
 */
#ifndef VMM_ENGINE_IMAGE_FILTER_H
#define VMM_ENGINE_IMAGE_FILTER_H

#include <stdbool.h>

#include "images/oci/image.h"
#include "vmm/engine/filters.h"

struct error;

extern const char *const image_filter_keys[];

/* Values the keys take: 0, or -EINVAL with e. */
int image_filters_check(const struct filters *f, struct error *e);
/* Does index entry ve pass f? img: the image it names (needed for label=; may be NULL otherwise). */
bool image_entry_wanted(const struct filters *f, const struct image_entry *ve, const struct image *img);

#endif
