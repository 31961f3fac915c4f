/* vmm push: an image to a registry, with docker's lines (and progress on a terminal). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/push.h"
#include "images/oci/ref.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/credentials.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/cli/options.h"

#define REDRAW_NS	100000000LL	/* progress lines at most 10 times a second */

struct view {
	bool tty;		/* progress bars, redrawn in place */
	bool open;		/* a progress line without its newline yet */
	int64_t last;		/* when it was last drawn */
};

static void usage(void)
{
	printf("Usage: vmm push [OPTIONS] NAME[:TAG]\n\n"
	       "Push an image to the registry its name names (docker.io when it names none),\n"
	       "under that repository and tag (latest when none is given).\n"
	       "Blobs the registry has are skipped; blobs another repository there has (as the\n"
	       "store's tags tell) are mounted from it.\n\n"
	       "Options:\n"
	       "  -q, --quiet              print only the image's full name\n"
	       "      --tls-verify=BOOL    require https with a valid certificate (default true;\n"
	       "                           false also allows plain http). Registries on\n"
	       "                           localhost and 127.0.0.0/8 never require it\n"
	       "      --authfile FILE      credentials file (default: as for vmm login)\n"
	       "  -h, --help               show this help\n\n"
	       "Blobs larger than VMM_PUSH_CHUNK_SIZE (default 16M) are sent in chunks of that size.\n");
}

/* A layer's last word: on its own line, over its progress bar when there is one. */
static void final_line(struct view *v, const char *id, const char *what, const char *from)
{
	printf("%s%s: %s%s%s%s\n", v->open ? "\r" : "", id, what, from ? " " : "", from ? from : "",
	       v->open ? "\033[K" : "");
	v->open = false;
}

static void on_progress(void *arg, const struct push_progress *p)
{
	struct view *v = arg;
	char id[13];

	if (p->event == PUSH_INDEX_PARTIAL) {
		printf("The image index %s has platforms that are not in the store: pushing its %s/%s "
		       "image only\n", p->digest, PLATFORM_OS, PLATFORM_ARCH);
		return;
	}
	/* docker names a layer by its content (diff_id) */
	snprintf(id, sizeof(id), "%s", digest_valid(p->diff_id) ? digest_hex(p->diff_id) : p->diff_id);
	switch (p->event) {
	case PUSH_LAYER_EXISTS:
		final_line(v, id, "Layer already exists", NULL);
		break;
	case PUSH_LAYER_MOUNTED:
		final_line(v, id, "Mounted from", p->from);
		break;
	case PUSH_LAYER_START:
		if (v->tty) {
			printf("%s: Preparing\033[K", id);
			v->open = true;
			v->last = 0;
		}
		break;
	case PUSH_LAYER_BYTES:
		if (!v->tty || (monotonic_ns() - v->last < REDRAW_NS && p->done < p->total))
			return;
		v->last = monotonic_ns();
		fmt_progress_bar(stdout, id, "Pushing", p->done, p->total);
		break;
	case PUSH_LAYER_DONE:
		final_line(v, id, "Pushed", NULL);
		break;
	default:
		break;
	}
	fflush(stdout);
}

/* VMM_PUSH_CHUNK_SIZE: 0 (the default) or a size of at least PUSH_CHUNK_MIN. */
static int chunk_size(uint64_t *out)
{
	const char *env = getenv("VMM_PUSH_CHUNK_SIZE");

	*out = 0;
	if (!env || !*env)
		return 0;
	if (parse_size(env, 1, out) || *out < PUSH_CHUNK_MIN) {
		pr_err("VMM_PUSH_CHUNK_SIZE=%s: want a size of at least %uK (64K, 16M)", env, PUSH_CHUNK_MIN >> 10);
		return -1;
	}
	return 0;
}

int cmd_push(struct cli *cli, int argc, char **argv)
{
	enum { OPT_TLS = 256, OPT_AUTHFILE };
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "tls-verify", optional_argument, NULL, OPT_TLS },
		{ "authfile", required_argument, NULL, OPT_AUTHFILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	struct push_opts po = { 0 };
	struct push_result res;
	struct auth_files af;
	struct image_ref ref;
	struct view view = { .tty = isatty(STDOUT_FILENO) };
	const char *authfile = NULL, *why;
	bool quiet = false, verify = true;
	char repo[REF_STR_MAX];
	struct store *s;
	int c, ret;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case OPT_TLS:
			if (opt_parse_bool(optarg, &verify))
				return cli_usage_error("push", "--tls-verify wants true or false");
			break;
		case OPT_AUTHFILE:
			authfile = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("push", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("push", "want exactly one image NAME[:TAG]");
	if (ref_parse(argv[optind], REF_DEFAULT_TAG, &ref, &why)) {
		pr_err("%s: invalid reference format: %s", argv[optind], why);
		return 1;
	}
	if (chunk_size(&po.chunk_size))
		return EXIT_VMM_ERROR;
	cli_auth_files(cli, authfile, &af);
	po.insecure = !verify;
	po.auth_files = af.list;
	if (!quiet) {
		po.progress = on_progress;
		po.progress_arg = &view;
		ref_format_repo(&ref, repo, sizeof(repo));
		printf("The push refers to repository [%s]\n", repo);
		fflush(stdout);
	}
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	ret = image_push(s, argv[optind], &po, &res, &e);
	store_close(s);
	if (view.open)
		printf("\n");
	if (ret)
		return cli_fail(&e, 1);
	if (quiet)
		printf("%s\n", res.ref);
	else
		printf("%s: digest: %s size: %llu\n", ref.tag, res.digest, (unsigned long long)res.size);
	return 0;
}
