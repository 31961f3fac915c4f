/*
 * A container's environment, docker's way, for `vmm run` (the image's Env,
 * --env-file, -e) and `vmm exec` (the container's Env, -e) alike:
 * KEY=VALUE replaces an earlier KEY or is added; KEY alone takes our own
 * value of KEY, or changes nothing when we have none.
 */
#ifndef VMM_ENGINE_ENV_H
#define VMM_ENGINE_ENV_H

struct error;

/* Apply one entry to *env (a strv, may be NULL). 0 or -ENOMEM. */
int env_set(char ***env, const char *entry);
/* A new strv: base with every entry of extra applied in order. 0 or -ENOMEM. */
int env_merge(char *const *base, char *const *extra, char ***out);
/* Apply the KEY=VALUE lines of a file (blank lines and # comments skipped). 0 or -errno with e. */
int env_file(char ***env, const char *path, struct error *e);

#endif
