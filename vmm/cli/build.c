/* vmm build: an image from a Dockerfile; each RUN in a micro-VM. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/ref.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/build.h"
#include "vmm/engine/dockerfile.h"

static void usage(void)
{
	printf("Usage: vmm build [OPTIONS] CONTEXT|-\n\n"
	       "Build an image from a Dockerfile. Each RUN runs in its own micro-VM; its layer is\n"
	       "what it changed on the VM's root disk. With '-', the Dockerfile is read from stdin\n"
	       "and there is no context.\n\n"
	       "Options:\n"
	       "  -t, --tag NAME[:TAG]       name the image (repeatable)\n"
	       "  -f, --file FILE            the Dockerfile (default: CONTEXT/Dockerfile; '-': stdin)\n"
	       "      --build-arg KEY[=VAL]  set a build-time variable (repeatable)\n"
	       "      --target STAGE         build up to this stage\n"
	       "      --no-cache             do not reuse earlier steps\n"
	       "      --pull                 pull base images even when present\n"
	       "      --network MODE         RUN's network: default, none\n"
	       "      --label KEY=VALUE      add a label to the image (repeatable)\n"
	       "  -q, --quiet                print only the image ID\n"
	       "      --iidfile FILE         write the image ID to FILE\n"
	       "  -h, --help                 show this help\n");
}

struct build_cli {
	struct build_opts o;
	char **tags, **args, **labels;
	const char *file, *iidfile;
	bool quiet;
	char *text;
	size_t len;
};

static int parse(int argc, char **argv, struct build_cli *bc)
{
	enum { O_BUILD_ARG = 256, O_TARGET, O_NO_CACHE, O_PULL, O_NETWORK, O_LABEL, O_IIDFILE, O_RM };
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "file", required_argument, NULL, 'f' },
		{ "build-arg", required_argument, NULL, O_BUILD_ARG },
		{ "target", required_argument, NULL, O_TARGET },
		{ "no-cache", no_argument, NULL, O_NO_CACHE },
		{ "pull", no_argument, NULL, O_PULL },
		{ "network", required_argument, NULL, O_NETWORK },
		{ "label", required_argument, NULL, O_LABEL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "iidfile", required_argument, NULL, O_IIDFILE },
		{ "rm", optional_argument, NULL, O_RM },
		{ "force-rm", optional_argument, NULL, O_RM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_ref ref;
	const char *why;
	int c;

	while ((c = getopt_long(argc, argv, "t:f:qh", opts, NULL)) != -1) {
		int ret = 0;

		switch (c) {
		case 't':
			if (ref_parse(optarg, REF_DEFAULT_TAG, &ref, &why) || ref.digest[0])
				return cli_usage_error("build", "-t %s: invalid reference format%s%s", optarg,
						       ref.digest[0] ? "" : ": ", ref.digest[0] ? " (a digest cannot be a tag)" : why);
			ret = strv_push(&bc->tags, optarg);
			break;
		case 'f':
			bc->file = optarg;
			break;
		case O_BUILD_ARG:
			if (optarg[0] == '=' || !optarg[0])
				return cli_usage_error("build", "--build-arg %s: want KEY=VALUE or KEY", optarg);
			ret = strv_push(&bc->args, optarg);
			break;
		case O_TARGET:
			bc->o.target = optarg;
			break;
		case O_NO_CACHE:
			bc->o.no_cache = true;
			break;
		case O_PULL:
			bc->o.pull = true;
			break;
		case O_NETWORK:
			if (!strcmp(optarg, "host"))
				return cli_usage_error("build", "--network host: a micro-VM has its own network stack "
						       "(use default or none)");
			bc->o.network = optarg;
			break;
		case O_LABEL:
			ret = strv_push(&bc->labels, optarg);
			break;
		case 'q':
			bc->quiet = true;
			break;
		case O_IIDFILE:
			bc->iidfile = optarg;
			break;
		case O_RM:
			break;	/* intermediate containers are always removed */
		case 'h':
			usage();
			return 1;
		default:
			return cli_bad_option("build", argv);
		}
		if (ret)
			return cli_usage_error("build", "out of memory");
	}
	if (argc - optind != 1)
		return cli_usage_error("build", "requires exactly one argument: the context folder, or - "
				       "(e.g. vmm build -t app .)");
	return 0;
}

/* The Dockerfile: stdin, -f FILE, or CONTEXT/Dockerfile. */
static int read_dockerfile(struct build_cli *bc, const char *context, struct error *e)
{
	char path[4096];
	int ret;

	if ((!context && !bc->file) || (bc->file && !strcmp(bc->file, "-"))) {
		if (isatty(STDIN_FILENO))
			return err_set(e, -EINVAL, "the Dockerfile is read from stdin, but stdin is a terminal "
				       "(pipe one in, or give a context folder)");
		bc->o.dockerfile_name = "stdin";
		ret = read_fd(STDIN_FILENO, DOCKERFILE_MAX, &bc->text, &bc->len);
		return ret ? err_sys(e, ret, "reading the Dockerfile from stdin") : 0;
	}
	if (bc->file)
		snprintf(path, sizeof(path), "%s", bc->file);
	else
		snprintf(path, sizeof(path), "%s/Dockerfile", context);
	bc->o.dockerfile_name = bc->file ? bc->file : "Dockerfile";
	ret = read_file(AT_FDCWD, path, DOCKERFILE_MAX, &bc->text, &bc->len);
	if (ret == -EFBIG)
		return err_set(e, ret, "%s: larger than %d bytes", path, DOCKERFILE_MAX);
	return ret ? err_sys(e, ret, "%s: cannot read the Dockerfile", path) : 0;
}

int cmd_build(struct cli *cli, int argc, char **argv)
{
	struct build_cli bc = { 0 };
	struct error e = { 0 };
	char id[DIGEST_BUF];
	const char *context;
	int ret, status = 0;

	if ((ret = parse(argc, argv, &bc))) {
		ret = ret == 1 ? 0 : ret;
		goto out;
	}
	context = strcmp(argv[optind], "-") ? argv[optind] : NULL;
	ret = read_dockerfile(&bc, context, &e);
	if (ret) {
		ret = cli_fail(&e, 1);
		goto out;
	}
	bc.o.context = context;
	bc.o.dockerfile = bc.text;
	bc.o.dockerfile_len = bc.len;
	bc.o.tags = bc.tags;
	bc.o.build_args = bc.args;
	bc.o.labels = bc.labels;
	bc.o.out = bc.quiet ? NULL : stdout;
	ret = engine_build(&cli->paths, &bc.o, id, &status, &e);
	if (ret) {
		ret = cli_fail(&e, status ? status : 1);
		goto out;
	}
	if (bc.quiet)
		printf("%s\n", id);
	if (bc.iidfile && (ret = write_file_atomic(AT_FDCWD, bc.iidfile, id, strlen(id), 0644))) {
		err_sys(&e, ret, "--iidfile %s", bc.iidfile);
		ret = cli_fail(&e, 1);
	}
out:
	strv_free(bc.tags);
	strv_free(bc.args);
	strv_free(bc.labels);
	free(bc.text);
	return ret;
}
