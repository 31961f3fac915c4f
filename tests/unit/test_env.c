/* The one environment merge of run and exec (vmm/engine/env.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/engine/env.h"

static const char *get(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

static void test_value_replaces(void)
{
	char *base[] = { "PATH=/bin", "A=1", NULL }, *extra[] = { "A=2", "B=3", NULL }, **env = NULL;

	ok(env_merge(base, extra, &env) == 0 && strv_len(env) == 3, "merge: KEY=VALUE replaces or adds");
	ok(env && !strcmp(get(env, "A"), "2") && !strcmp(get(env, "B"), "3") &&
	   !strcmp(get(env, "PATH"), "/bin"), "merge: values");
	ok(env && !strcmp(env[1], "A=2"), "merge: a replaced entry keeps its place");
	strv_free(env);
}

static void test_key_alone_takes_ours(void)
{
	char *base[] = { "HOME=/root", NULL }, *extra[] = { "HOME", "VMM_TEST_UNSET", NULL }, **env = NULL;

	setenv("HOME", "/host/home", 1);
	unsetenv("VMM_TEST_UNSET");
	ok(env_merge(base, extra, &env) == 0, "merge: KEY alone");
	ok(env && !strcmp(get(env, "HOME"), "/host/home"), "merge: KEY alone takes our value");
	ok(env && !get(env, "VMM_TEST_UNSET") && strv_len(env) == 1,
	   "merge: KEY alone that we lack changes nothing");
	strv_free(env);
}

static void test_env_file(void)
{
	char path[] = "/tmp/vmm-test-env-XXXXXX", **env = NULL;
	const char text[] = "# comment\n\n  X=1\r\nY=two words\n";
	struct error e = { 0 };
	int fd = mkstemp(path);

	ok(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1), "env file written");
	close(fd);
	ok(env_file(&env, path, &e) == 0 && !strcmp(get(env, "X"), "1") &&
	   !strcmp(get(env, "Y"), "two words") && strv_len(env) == 2, "env file: lines applied");
	strv_free(env);
	env = NULL;
	fd = open(path, O_WRONLY | O_TRUNC);
	ok(fd >= 0 && write(fd, "=bad\n", 5) == 5, "bad env file written");
	close(fd);
	ok(env_file(&env, path, &e) == -EINVAL && strstr(e.msg, "bad line '=bad'"),
	   "env file: a line without a key is refused with its text");
	strv_free(env);
	unlink(path);
}

int main(void)
{
	test_value_replaces();
	test_key_alone_takes_ours();
	test_env_file();
	return tap_done();
}
