/* vmm images: the images in the store, as docker lists them. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/ref.h"
#include "vmm/base/template.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/filters.h"
#include "vmm/engine/image-filter.h"

struct row {
	char repo[REF_STR_MAX], tag[REF_TAG_MAX + 8];
	char id[DIGEST_BUF];
	char digest[DIGEST_BUF];
	int64_t created;
	uint64_t size;
};

static void usage(void)
{
	printf("Usage: vmm images [OPTIONS] [REPOSITORY[:TAG]]\n\n"
	       "List images in the store.\n\n"
	       "Options:\n"
	       "  -a, --all          show all images (vmm keeps no intermediate images)\n"
	       "  -q, --quiet        only image IDs\n"
	       "  -f, --filter K=V   dangling=true|false (untagged or not), reference=PATTERN\n"
	       "                     (busy*, busybox:1*), label=KEY[=VALUE]; repeatable\n"
	       "      --no-trunc     full image IDs\n"
	       "      --format FMT   json (one JSON object per line) or a Go template:\n"
	       "                     '{{.Repository}}:{{.Tag}}', 'table {{.ID}}\\t{{.Size}}'\n"
	       "  -h, --help         show this help\n");
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	if ((c = strcmp(x->repo, y->repo)))
		return c;
	return strcmp(x->tag, y->tag);
}

/* REPOSITORY[:TAG] filter: the repository matches, and the tag when given. */
static bool filter_match(const struct image_ref *f, const char *full)
{
	struct image_ref r;

	if (!full || ref_parse(full, 0, &r, NULL))
		return false;
	return !strcmp(f->domain, r.domain) && !strcmp(f->path, r.path) &&
	       (!f->tag[0] || !strcmp(f->tag, r.tag));
}

static json_object *row_json(const struct row *r, bool no_trunc)
{
	json_object *o = json_object_new_object();
	char buf[64], size[32];

	format_size_si(r->size, size, sizeof(size));
	json_object_object_add(o, "Containers", json_object_new_string("N/A"));
	fmt_created_at(r->created, buf, sizeof(buf));
	json_object_object_add(o, "CreatedAt", json_object_new_string(buf));
	fmt_since(r->created, buf, sizeof(buf));
	json_object_object_add(o, "CreatedSince", json_object_new_string(buf));
	json_object_object_add(o, "Digest", json_object_new_string(r->digest));
	snprintf(buf, sizeof(buf), "%.*s", no_trunc ? DIGEST_STR_LEN : 12,
		 no_trunc ? r->id : digest_hex(r->id));
	json_object_object_add(o, "ID", json_object_new_string(buf));
	json_object_object_add(o, "Repository", json_object_new_string(r->repo));
	json_object_object_add(o, "SharedSize", json_object_new_string("N/A"));
	json_object_object_add(o, "Size", json_object_new_string(size));
	json_object_object_add(o, "Tag", json_object_new_string(r->tag));
	json_object_object_add(o, "UniqueSize", json_object_new_string("N/A"));
	json_object_object_add(o, "VirtualSize", json_object_new_string(size));
	return o;
}

/* --format json: {{json .}}; else a template, with docker's column titles for a table. */
static int print_format(const char *format, const struct row *rows, size_t n, bool no_trunc)
{
	json_object *all = json_object_new_array(), *header;
	struct template *t = NULL;
	struct error e = { 0 };
	int ret;

	if (template_parse_rows(format, &t, &e)) {
		json_object_put(all);
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(all, row_json(&rows[i], no_trunc));
	header = json_tokener_parse("{\"Repository\":\"REPOSITORY\",\"Tag\":\"TAG\",\"ID\":\"IMAGE ID\","
				    "\"CreatedSince\":\"CREATED\",\"CreatedAt\":\"CREATED AT\",\"Size\":\"SIZE\","
				    "\"Digest\":\"DIGEST\",\"VirtualSize\":\"VIRTUAL SIZE\"}");
	ret = template_print(t, header, all, stdout, &e) ? cli_fail(&e, EXIT_VMM_ERROR) : 0;
	json_object_put(header);
	json_object_put(all);
	template_free(t);
	return ret;
}

static void print_table(const struct row *rows, size_t n, bool no_trunc)
{
	int wr = strlen("REPOSITORY"), wt = strlen("TAG"), wi = no_trunc ? DIGEST_STR_LEN : 12;
	int wc = strlen("CREATED");
	char since[64], size[32];

	for (size_t i = 0; i < n; i++) {
		fmt_since(rows[i].created, since, sizeof(since));
		wr = MAX(wr, (int)strlen(rows[i].repo));
		wt = MAX(wt, (int)strlen(rows[i].tag));
		wc = MAX(wc, (int)strlen(since));
	}
	printf("%-*s   %-*s   %-*s   %-*s   %s\n", wr, "REPOSITORY", wt, "TAG", wi, "IMAGE ID",
	       wc, "CREATED", "SIZE");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		fmt_since(r->created, since, sizeof(since));
		format_size_si(r->size, size, sizeof(size));
		printf("%-*s   %-*s   %-*.*s   %-*s   %s\n", wr, r->repo, wt, r->tag, wi, wi,
		       no_trunc ? r->id : digest_hex(r->id), wc, since, size);
	}
}

/*
 * A name@digest entry (a pull by digest) is a repo digest, not a tag: like
 * docker, list it (as <none>) only while the image has no tag.
 */
static bool digest_ref_shadowed(const struct image_entry *v, size_t n, size_t i)
{
	if (!v[i].ref || !strchr(v[i].ref, '@'))
		return false;
	for (size_t j = 0; j < n; j++)
		if (j != i && v[j].ref && !strchr(v[j].ref, '@') && !strcmp(v[j].digest, v[i].digest))
			return true;
	return false;
}

int cmd_images(struct cli *cli, int argc, char **argv)
{
	enum { OPT_NO_TRUNC = 256, OPT_FORMAT };
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "filter", required_argument, NULL, 'f' },
		{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	bool quiet = false, no_trunc = false, have_filter = false;
	const char *format = NULL;
	struct image_entry *v = NULL;
	struct image_ref filter;
	struct row *rows = NULL;
	struct filters f = { .keys = image_filter_keys };
	struct store *s;
	size_t n = 0, nr = 0;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "aqf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			break;
		case 'f':
			if (filters_add(&f, optarg, &e) || image_filters_check(&f, &e)) {
				filters_free(&f);
				return cli_usage_error("images", "%s", e.msg);
			}
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_NO_TRUNC:
			no_trunc = true;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'h':
			usage();
			filters_free(&f);
			return 0;
		default:
			filters_free(&f);
			return cli_bad_option("images", argv);
		}
	}
	if (argc - optind > 1) {
		filters_free(&f);
		return cli_usage_error("images", "too many arguments");
	}
	if (optind < argc) {
		const char *why;

		if (ref_parse(argv[optind], 0, &filter, &why)) {
			pr_err("%s: invalid reference format: %s", argv[optind], why);
			filters_free(&f);
			return 1;
		}
		have_filter = true;
	}
	if (!(s = cli_store_open(cli->paths.root))) {
		filters_free(&f);
		return 1;
	}
	if (image_entries(s, &v, &n, &e)) {
		err_print(&e);
		goto out;
	}
	rows = calloc(n + 1, sizeof(*rows));
	if (!rows)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[nr];
		struct image *img = NULL;
		bool cached = false;

		if (!v[i].config_digest[0])
			continue;	/* unreadable: logged */
		if (have_filter && !filter_match(&filter, v[i].ref))
			continue;
		if (digest_ref_shadowed(v, n, i))
			continue;
		if (filters_get(&f, "label")) {	/* the config's labels decide */
			if (image_open_digest(s, v[i].digest, &img, &e)) {
				err_print(&e);
				continue;
			}
		}
		if (!image_entry_wanted(&f, &v[i], img)) {
			image_close(img);
			continue;
		}
		image_close(img);
		img = NULL;
		for (size_t j = 0; j < nr && !cached; j++) {
			if (!strcmp(rows[j].digest, v[i].digest)) {
				r->created = rows[j].created;
				r->size = rows[j].size;
				cached = true;
			}
		}
		if (!cached) {
			if (image_open_digest(s, v[i].digest, &img, &e)) {
				err_print(&e);	/* the others are still listed */
				continue;
			}
			r->created = img->config.created_time;
			r->size = img->size;
			image_close(img);
		}
		memcpy(r->id, v[i].config_digest, DIGEST_BUF);
		memcpy(r->digest, v[i].digest, DIGEST_BUF);
		fmt_repo_tag(v[i].ref, r->repo, sizeof(r->repo), r->tag, sizeof(r->tag));
		nr++;
	}
	qsort(rows, nr, sizeof(*rows), cmp_row);
	for (size_t i = 0; quiet && i < nr; i++)
		printf("%.*s\n", no_trunc ? DIGEST_STR_LEN : 12,
		       no_trunc ? rows[i].id : digest_hex(rows[i].id));
	ret = 0;
	if (!quiet && format)
		ret = print_format(format, rows, nr, no_trunc);
	else if (!quiet)
		print_table(rows, nr, no_trunc);
out:
	free(rows);
	image_entries_free(v, n);
	store_close(s);
	filters_free(&f);
	return ret;
}
