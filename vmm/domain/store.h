/*
 * Domain definitions kept in the store: $VMM_ROOT/domains/NAME.xml, in the
 * canonical form domain_format() writes, replaced crash-safely.
 */
#ifndef VMM_DOMAIN_STORE_H
#define VMM_DOMAIN_STORE_H

#include "vmm/domain/domain.h"

/*
 * Check xml and keep it as its name's definition (a new one, or a redefinition
 * with the same UUID). A missing UUID is generated. *d gets the definition.
 */
int domain_store_define(const char *root, const char *xml, size_t len, struct domain_def *d,
			struct error *e);
/* Read a defined domain. -ENOENT (e says "no domain named ...") when there is none. */
int domain_store_load(const char *root, const char *name, struct domain_def *d, struct error *e);
int domain_store_undefine(const char *root, const char *name, struct error *e);
/* The defined names, sorted: a malloc'd NULL-terminated vector (free each and it). */
int domain_store_list(const char *root, char ***names, struct error *e);

#endif
