/*
 * Lexical path cleaning for names that come from hostile places (layer
 * members, archives from an image or a guest): the result is relative to a
 * root it can never leave.
 */
#ifndef VMM_BASE_PATH_H
#define VMM_BASE_PATH_H

#include <stddef.h>

#define PATH_NAME_MAX	255	/* longest component (ext4, and Linux's NAME_MAX) */

enum path_dotdot {
	PATH_DOTDOT_CLAMP,	/* ".." drops the previous component and stays at the root (layers) */
	PATH_DOTDOT_REJECT,	/* ".." anywhere is an error (archives whose names must not climb) */
};

/*
 * Clean in as if chrooted: leading "/" dropped, "//" and "." collapsed,
 * ".." as mode says. The result has no leading or trailing slash; "" is the
 * root itself. 0, -EINVAL (a ".." with PATH_DOTDOT_REJECT), or -ENAMETOOLONG
 * (out too small, or a component longer than PATH_NAME_MAX).
 */
int path_clean(const char *in, enum path_dotdot mode, char *out, size_t outlen);

/* Split a cleaned path in place into its parent ("" for the root) and last component. */
void path_split(char *path, char **dir, char **base);

#endif
