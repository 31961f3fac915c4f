/* vmm pull: an image from a registry, with docker's progress lines on a terminal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/pull.h"
#include "images/oci/ref.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/credentials.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/cli/options.h"

#define REDRAW_NS	100000000LL	/* progress lines at most 10 times a second */

struct view {
	FILE *f;
	const struct image_ref *ref;
	bool header;		/* "latest: Pulling from library/busybox" printed */
	bool open;		/* a progress line without its newline yet */
	int64_t last;		/* when it was last drawn */
};

static void usage(void)
{
	printf("Usage: vmm pull [OPTIONS] NAME[:TAG|@DIGEST]\n\n"
	       "Pull an image from a registry (docker.io when the name has no registry).\n"
	       "An image index or manifest list gives its linux/amd64 image.\n\n"
	       "Options:\n"
	       "  -q, --quiet              print only the image's full name\n"
	       "      --platform OS/ARCH   the platform to pull; only linux/amd64, what vmm runs\n"
	       "      --tls-verify=BOOL    require https with a valid certificate (default true;\n"
	       "                           false also allows plain http). Registries on\n"
	       "                           localhost and 127.0.0.0/8 never require it\n"
	       "      --authfile FILE      credentials file (default: as for vmm login)\n"
	       "  -h, --help               show this help\n\n"
	       "A transfer that moves less than 1 KB/s for VMM_PULL_STALL_TIMEOUT seconds\n"
	       "(default 60) fails.\n");
}

static void on_progress(void *arg, const struct pull_progress *p)
{
	struct view *v = arg;
	char id[13];

	snprintf(id, sizeof(id), "%s", digest_hex(p->digest));
	if (!v->header) {
		fprintf(v->f, "%s: Pulling from %s\n", v->ref->digest[0] ? v->ref->digest : v->ref->tag,
			v->ref->path);
		v->header = true;
	}
	switch (p->event) {
	case PULL_LAYER_EXISTS:
		fprintf(v->f, "%s: Already exists\n", id);
		break;
	case PULL_LAYER_START:
		fprintf(v->f, "%s: Pulling fs layer\033[K", id);
		v->open = true;
		v->last = 0;
		break;
	case PULL_LAYER_BYTES:
		if (monotonic_ns() - v->last < REDRAW_NS && p->done < p->total)
			return;
		v->last = monotonic_ns();
		fmt_progress_bar(v->f, id, "Downloading", p->done, p->total);
		break;
	case PULL_LAYER_DONE:
		fprintf(v->f, "\r%s: Pull complete\033[K\n", id);
		v->open = false;
		break;
	}
	fflush(v->f);
}

int cli_pull(struct cli *cli, const char *name, const struct cli_pull_opts *o)
{
	struct error e = { 0 };
	struct pull_opts po = { 0 };
	struct pull_result res;
	struct auth_files af;
	struct image_ref ref;
	struct view view = { .f = o->out, .ref = &ref };
	char shortref[REF_STR_MAX];
	const char *why, *env;
	struct store *s;
	int ret;

	if (ref_parse(name, REF_DEFAULT_TAG, &ref, &why)) {
		pr_err("%s: invalid reference format: %s", name, why);
		return 1;
	}
	cli_auth_files(cli, o->authfile, &af);
	po.insecure = o->insecure;
	if ((env = getenv("VMM_PULL_STALL_TIMEOUT")) && *env) {
		uint64_t secs;

		if (parse_uint(env, 1, 86400, &secs)) {
			pr_err("VMM_PULL_STALL_TIMEOUT=%s: want seconds (1-86400)", env);
			return EXIT_VMM_ERROR;
		}
		po.stall_timeout = (unsigned)secs;
	}
	po.auth_files = af.list;
	if (!o->quiet && isatty(fileno(o->out))) {
		po.progress = on_progress;
		po.progress_arg = &view;
	}
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	ret = image_pull(s, name, &po, &res, &e);
	store_close(s);
	if (view.open)
		fprintf(o->out, "\n");
	if (ret)
		return cli_fail(&e, 1);
	if (o->quiet) {
		fprintf(o->out, "%s\n", res.ref);
		return 0;
	}
	fmt_short_ref(res.ref, shortref, sizeof(shortref));
	fprintf(o->out, "Digest: %s\n", res.digest);
	fprintf(o->out, "Status: %s for %s\n", res.updated ? "Downloaded newer image" : "Image is up to date",
		shortref);
	fprintf(o->out, "%s\n", res.ref);
	return 0;
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	enum { OPT_TLS = 256, OPT_PLATFORM, OPT_AUTHFILE };
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "tls-verify", optional_argument, NULL, OPT_TLS },
		{ "authfile", required_argument, NULL, OPT_AUTHFILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_pull_opts o = { .out = stdout };
	bool verify = true;
	int c;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o.quiet = true;
			break;
		case OPT_PLATFORM:
			if (strcmp(optarg, PLATFORM_OS "/" PLATFORM_ARCH)) {
				pr_err("--platform %s: vmm runs %s/%s images only", optarg, PLATFORM_OS,
				       PLATFORM_ARCH);
				return EXIT_VMM_ERROR;
			}
			break;
		case OPT_TLS:
			if (opt_parse_bool(optarg, &verify))
				return cli_usage_error("pull", "--tls-verify wants true or false");
			break;
		case OPT_AUTHFILE:
			o.authfile = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("pull", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("pull", "want exactly one image NAME[:TAG|@DIGEST]");
	o.insecure = !verify;
	return cli_pull(cli, argv[optind], &o);
}
