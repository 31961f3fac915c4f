/* vmm login / vmm logout: registry credentials, checked against the registry before they are saved. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "images/oci/auth.h"
#include "images/oci/creds.h"
#include "images/oci/registry.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/credentials.h"
#include "vmm/base/log.h"
#include "vmm/cli/options.h"

#define DEFAULT_REGISTRY	"docker.io"

static void login_usage(void)
{
	printf("Usage: vmm login [OPTIONS] [SERVER]\n\n"
	       "Log in to a registry (default: docker.io). The credentials are checked\n"
	       "against the registry, then saved for vmm pull.\n\n"
	       "Options:\n"
	       "  -u, --username USER     user name (asked for on a terminal when missing)\n"
	       "  -p, --password PASS     password (insecure: visible to other users)\n"
	       "      --password-stdin    read the password from stdin\n"
	       "      --tls-verify=BOOL   require https with a valid certificate (default true)\n"
	       "      --authfile FILE     where to save them (default: $VMM_ROOT/auth.json when\n"
	       "                          --root or $VMM_ROOT is set, else\n"
	       "                          ${XDG_CONFIG_HOME:-~/.config}/vmm/auth.json)\n"
	       "  -h, --help              show this help\n\n"
	       "vmm pull also reads docker's $DOCKER_CONFIG/config.json or ~/.docker/config.json.\n");
}

static void logout_usage(void)
{
	printf("Usage: vmm logout [OPTIONS] [SERVER]\n\n"
	       "Remove the credentials vmm login saved for a registry (default: docker.io).\n\n"
	       "Options:\n"
	       "      --authfile FILE   the credentials file (default: as for vmm login)\n"
	       "  -h, --help            show this help\n");
}

/* One line from stdin without its newline; echo off when asked (a password on a terminal). */
static int read_line(const char *prompt, bool secret, char *buf, size_t len)
{
	struct termios old, quiet;
	bool restore = false;
	size_t n;

	if (prompt) {
		fputs(prompt, stderr);
		fflush(stderr);
	}
	if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	if (!fgets(buf, (int)len, stdin))
		buf[0] = '\0';
	if (restore) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strlen(buf);
	if (n + 1 >= len && buf[n - 1] != '\n')
		return -ENAMETOOLONG;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

/* SERVER as given, or docker.io: the key credentials are filed under. */
static int server_arg(const char *cmd, int argc, char **argv, char *host, size_t len)
{
	const char *name = DEFAULT_REGISTRY;

	if (argc - optind > 1)
		return cli_usage_error(cmd, "want at most one SERVER");
	if (argc - optind == 1)
		name = argv[optind];
	if (registry_host_normalize(name, host, len)) {
		pr_err("%s: not a registry name (want HOST[:PORT])", name);
		return 1;
	}
	return 0;
}

/* Fill in what the options did not give: the user name and the password. */
static int ask_creds(struct creds *c, const char *user, const char *pass, bool pass_stdin)
{
	bool tty = isatty(STDIN_FILENO);

	if (pass_stdin && !user) {
		pr_err("--password-stdin needs --username");
		return -EINVAL;
	}
	if (!user && !tty) {
		pr_err("cannot ask for a user name: stdin is not a terminal (use --username)");
		return -EINVAL;
	}
	if (user) {
		if (strlen(user) >= sizeof(c->user) || strchr(user, ':')) {
			pr_err("invalid user name (too long, or has a ':')");
			return -EINVAL;
		}
		strcpy(c->user, user);
	} else if (read_line("Username: ", false, c->user, sizeof(c->user))) {
		pr_err("user name too long");
		return -EINVAL;
	}
	if (pass) {
		if (strlen(pass) >= sizeof(c->pass)) {
			pr_err("password too long");
			return -EINVAL;
		}
		strcpy(c->pass, pass);
	} else if (pass_stdin || !tty) {
		if (!pass_stdin) {
			pr_err("cannot ask for a password: stdin is not a terminal (use --password-stdin)");
			return -EINVAL;
		}
		if (read_line(NULL, false, c->pass, sizeof(c->pass))) {
			pr_err("password too long");
			return -EINVAL;
		}
	} else if (read_line("Password: ", true, c->pass, sizeof(c->pass))) {
		pr_err("password too long");
		return -EINVAL;
	}
	if (!c->user[0] || !c->pass[0]) {
		pr_err("%s", !c->user[0] ? "empty user name" : "empty password");
		return -EINVAL;
	}
	return 0;
}

int cmd_login(struct cli *cli, int argc, char **argv)
{
	enum { OPT_TLS = 256, OPT_STDIN, OPT_AUTHFILE };
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-stdin", no_argument, NULL, OPT_STDIN },
		{ "tls-verify", optional_argument, NULL, OPT_TLS },
		{ "authfile", required_argument, NULL, OPT_AUTHFILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	const char *user = NULL, *pass = NULL, *authfile = NULL;
	bool pass_stdin = false, verify = true;
	char host[AUTH_HOST_MAX], label[AUTH_HOST_MAX + 16];
	struct registry_opts ro = { 0 };
	struct registry *r;
	struct auth_files af;
	struct creds c = { 0 };
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			user = optarg;
			break;
		case 'p':
			pass = optarg;
			break;
		case OPT_STDIN:
			pass_stdin = true;
			break;
		case OPT_TLS:
			if (opt_parse_bool(optarg, &verify))
				return cli_usage_error("login", "--tls-verify wants true or false");
			break;
		case OPT_AUTHFILE:
			authfile = optarg;
			break;
		case 'h':
			login_usage();
			return 0;
		default:
			return cli_bad_option("login", argv);
		}
	}
	if (pass && pass_stdin)
		return cli_usage_error("login", "--password and --password-stdin are exclusive");
	if ((ret = server_arg("login", argc, argv, host, sizeof(host))))
		return ret;
	if (pass)
		pr_warn("using --password on the command line is insecure; use --password-stdin");
	if (ask_creds(&c, user, pass, pass_stdin))
		return 1;
	snprintf(label, sizeof(label), "login to %s", host);
	ro.label = label;
	ro.insecure = !verify;
	ro.creds = &c;
	ro.login = true;
	ret = registry_open(host, &ro, &r, &e);
	if (!ret) {
		ret = registry_ping(r);
		if (ret)
			err_copy(&e, registry_error(r), ret);
		else if (!registry_authenticated(r))
			pr_warn("%s does not ask for credentials; saving them unchecked", host);
		registry_close(r);
	}
	if (!ret) {
		cli_auth_files(cli, authfile, &af);
		ret = creds_save(af.own, host, &c, &e);
	}
	explicit_bzero(&c, sizeof(c));
	if (ret)
		return cli_fail(&e, 1);
	printf("Login Succeeded\n");
	return 0;
}

int cmd_logout(struct cli *cli, int argc, char **argv)
{
	enum { OPT_AUTHFILE = 256 };
	static const struct option opts[] = {
		{ "authfile", required_argument, NULL, OPT_AUTHFILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	const char *authfile = NULL;
	char host[AUTH_HOST_MAX];
	struct auth_files af;
	struct creds c;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_AUTHFILE:
			authfile = optarg;
			break;
		case 'h':
			logout_usage();
			return 0;
		default:
			return cli_bad_option("logout", argv);
		}
	}
	if ((ret = server_arg("logout", argc, argv, host, sizeof(host))))
		return ret;
	cli_auth_files(cli, authfile, &af);
	ret = creds_remove(af.own, host, &e);
	if (ret == -ENOENT) {
		const char *docker_only[] = { af.docker, NULL };

		if (af.docker[0] && creds_lookup(docker_only, host, &c) == 0) {
			explicit_bzero(&c, sizeof(c));
			pr_warn("%s: the credentials for %s are docker's; vmm leaves them (use docker "
				"logout)", af.docker, host);
		}
		printf("Not logged in to %s\n", host);
		return 0;
	}
	if (ret)
		return cli_fail(&e, 1);
	printf("Removing login credentials for %s\n", host);
	return 0;
}
