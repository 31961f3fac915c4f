#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/env.h"

int env_set(char ***env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	char *entry;
	int ret;

	if (!eq) {
		const char *ours = getenv(kv);

		if (!ours)
			return 0;
		if (asprintf(&entry, "%s=%s", kv, ours) < 0)
			return -ENOMEM;
	} else if (!(entry = strdup(kv))) {
		return -ENOMEM;
	}
	for (size_t i = 0; *env && (*env)[i]; i++) {
		if (!strncmp((*env)[i], entry, klen) && (*env)[i][klen] == '=') {
			free((*env)[i]);
			(*env)[i] = entry;
			return 0;
		}
	}
	ret = strv_push(env, entry);
	free(entry);
	return ret;
}

int env_merge(char *const *base, char *const *extra, char ***out)
{
	char **env = strv_dup(base);
	int ret = 0;

	if (base && !env)
		return -ENOMEM;
	for (size_t i = 0; !ret && extra && extra[i]; i++)
		ret = env_set(&env, extra[i]);
	if (ret) {
		strv_free(env);
		return ret;
	}
	*out = env;
	return 0;
}

int env_file(char ***env, const char *path, struct error *e)
{
	char *data, *save = NULL;
	int ret = read_file(AT_FDCWD, path, 1 << 20, &data, NULL);

	if (ret)
		return err_sys(e, ret, "--env-file %s", path);
	for (char *line = strtok_r(data, "\n", &save); !ret && line; line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		if (*line == '=')
			ret = err_set(e, -EINVAL, "--env-file %s: bad line '%s' (expected KEY=VALUE)", path, line);
		else if ((ret = env_set(env, line)))
			err_sys(e, ret, "--env-file %s", path);
	}
	free(data);
	return ret;
}
