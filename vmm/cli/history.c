/* vmm history: how an image was built, from its config's history. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "images/oci/image.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/image-json.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/util.h"

#define CREATED_BY_MAX	45	/* docker truncates the column to this */

static void usage(void)
{
	printf("Usage: vmm history [OPTIONS] IMAGE\n\n"
	       "Show the history of an image, newest first.\n\n"
	       "Options:\n"
	       "      --no-trunc   do not truncate output\n"
	       "  -q, --quiet      only image IDs\n"
	       "  -h, --help       show this help\n");
}

struct hrow {
	char id[80], created[64], created_by[4096], size[32], comment[1024];
};

static void truncate_utf8(char *s, size_t max)
{
	if (strlen(s) <= max)
		return;
	/* cut on a character boundary, then "…" as docker does */
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	strcpy(s + max - 1, "\xe2\x80\xa6");
}

/* Columns are padded by characters, not bytes ("…" is three bytes). */
static int width(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void col(const char *s, int w)
{
	printf("%s%*s   ", s, MAX(0, w - width(s)), "");
}

static const char *field(json_object *o, const char *key)
{
	const char *s = json_object_get_string(json_object_object_get(o, key));

	return s ? s : "";
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	enum { OPT_NO_TRUNC = 256 };
	static const struct option opts[] = {
		{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
		{ "quiet", no_argument, NULL, 'q' },
		{ "human", optional_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	bool no_trunc = false, quiet = false;
	struct image *img;
	struct store *s;
	json_object *hist;
	struct hrow *rows;
	size_t n;
	int c, wi = 12, wc = 7, wb = 10, ws = 4;

	while ((c = getopt_long(argc, argv, "qhH::", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NO_TRUNC:
			no_trunc = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'H':
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("history", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("history", "want exactly one IMAGE");
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	if (image_open(s, argv[optind], &img, &e)) {
		store_close(s);
		return cli_fail(&e, 1);
	}
	hist = image_history_json(img);
	n = json_object_array_length(hist);
	rows = calloc(n + 1, sizeof(*rows));
	for (size_t i = 0; rows && i < n; i++) {
		json_object *h = json_object_array_get_idx(hist, i);
		struct hrow *r = &rows[i];
		const char *id = field(h, "Id");

		fmt_since(json_object_get_int64(json_object_object_get(h, "Created")), r->created, sizeof(r->created));
		snprintf(r->created_by, sizeof(r->created_by), "%s", field(h, "CreatedBy"));
		snprintf(r->comment, sizeof(r->comment), "%s", field(h, "Comment"));
		/* Image text, on one line, without escape sequences for the terminal. */
		str_sanitize(r->created_by, true);
		str_sanitize(r->comment, true);
		if (!no_trunc)
			truncate_utf8(r->created_by, CREATED_BY_MAX);
		format_size_si(json_object_get_int64(json_object_object_get(h, "Size")), r->size, sizeof(r->size));
		snprintf(r->id, sizeof(r->id), "%.*s", no_trunc || !strcmp(id, "<missing>") ? DIGEST_STR_LEN : 12,
			 no_trunc || !strcmp(id, "<missing>") ? id : digest_hex(id));
	}
	json_object_put(hist);
	for (size_t i = 0; rows && i < n; i++) {
		wi = MAX(wi, (int)strlen(rows[i].id));
		wc = MAX(wc, (int)strlen(rows[i].created));
		wb = MAX(wb, width(rows[i].created_by));
		ws = MAX(ws, (int)strlen(rows[i].size));
	}
	if (!quiet)
		printf("%-*s   %-*s   %-*s   %-*s   %s\n", wi, "IMAGE", wc, "CREATED", wb,
		       "CREATED BY", ws, "SIZE", "COMMENT");
	for (size_t i = 0; rows && i < n; i++) {
		if (quiet) {
			printf("%s\n", rows[i].id);
			continue;
		}
		col(rows[i].id, wi);
		col(rows[i].created, wc);
		col(rows[i].created_by, wb);
		col(rows[i].size, ws);
		printf("%s\n", rows[i].comment);
	}
	free(rows);
	image_close(img);
	store_close(s);
	return 0;
}
