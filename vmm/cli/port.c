/* vmm port: a running container's published ports, as docker port shows them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static void usage(void)
{
	printf("Usage: vmm port CONTAINER [PRIVATE_PORT[/PROTO]]\n\n"
	       "List the container's published ports (host ports picked at start included),\n"
	       "or the host addresses of one container port.\n");
}

int cmd_port(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	struct container_state st;
	struct container *ct;
	uint64_t want = 0;
	bool want_udp = false, found = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage();
			return 0;
		}
		return cli_bad_option("port", argv);
	}
	if (optind >= argc)
		return cli_usage_error("port", "requires a CONTAINER");
	if (argc - optind > 2)
		return cli_usage_error("port", "too many arguments");
	if (argc - optind == 2) {
		char spec[32], *slash;

		snprintf(spec, sizeof(spec), "%s", argv[optind + 1]);
		slash = strchr(spec, '/');
		if (slash) {
			*slash++ = '\0';
			if (strcmp(slash, "tcp") && strcmp(slash, "udp"))
				return cli_usage_error("port", "%s: protocol must be tcp or udp", argv[optind + 1]);
			want_udp = !strcmp(slash, "udp");
		}
		if (parse_uint(spec, 1, 65535, &want))
			return cli_usage_error("port", "%s: not a port number", argv[optind + 1]);
	}
	if (container_open(cli->paths.root, argv[optind], &ct, &e))
		return cli_fail(&e, 1);
	container_effective_state(ct, &st);
	if (st.status != CONTAINER_RUNNING)
		st.nports = 0;
	for (unsigned i = 0; i < st.nports; i++) {
		const struct port_binding *p = &st.ports[i];
		const char *ip = p->host_ip[0] ? p->host_ip : "0.0.0.0";

		if (!want) {
			printf("%u/%s -> %s:%u\n", p->container_port, p->udp ? "udp" : "tcp", ip, p->host_port);
		} else if (p->container_port == want && p->udp == want_udp) {
			printf("%s:%u\n", ip, p->host_port);
			found = true;
		}
	}
	if (want && !found) {
		pr_err("no public port '%u/%s' published for %s", (unsigned)want, want_udp ? "udp" : "tcp",
		       ct->cfg.name);
		container_free(ct);
		return 1;
	}
	container_free(ct);
	return 0;
}
