#include <errno.h>
#include <string.h>

#include "vmm/base/path.h"

int path_clean(const char *in, enum path_dotdot mode, char *out, size_t outlen)
{
	size_t len = 0;

	if (!outlen)
		return -ENAMETOOLONG;
	while (*in) {
		const char *c = in;
		size_t n;

		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		in = c + n;
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (mode == PATH_DOTDOT_REJECT)
				return -EINVAL;
			/* drop the last component; at the root ".." is the root */
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			continue;
		}
		if (n > PATH_NAME_MAX)
			return -ENAMETOOLONG;
		if (len + (len ? 1 : 0) + n + 1 > outlen)
			return -ENAMETOOLONG;
		if (len)
			out[len++] = '/';
		memcpy(out + len, c, n);
		len += n;
	}
	out[len] = '\0';
	return 0;
}

void path_split(char *path, char **dir, char **base)
{
	char *slash = strrchr(path, '/');

	if (!slash) {
		*dir = path + strlen(path);	/* "" */
		*base = path;
		return;
	}
	*slash = '\0';
	*dir = path;
	*base = slash + 1;
}
