/* Docker-looking names, times and sizes for the image commands. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "images/oci/ref.h"
#include "images/oci/store.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/cli/image-fmt.h"

struct store *cli_store_open(const char *root)
{
	struct error e = { 0 };
	struct store *s;

	if (store_open(root, &s, &e)) {
		err_print(&e);
		return NULL;
	}
	return s;
}

void fmt_short_ref(const char *full, char *buf, size_t len)
{
	struct image_ref ref;

	if (ref_parse(full, 0, &ref, NULL))
		snprintf(buf, len, "%s", full);
	else
		ref_format_short(&ref, buf, len);
}

void fmt_repo_tag(const char *full, char *repo, size_t rlen, char *tag, size_t tlen)
{
	struct image_ref ref;

	if (!full || ref_parse(full, 0, &ref, NULL)) {
		snprintf(repo, rlen, "<none>");
		snprintf(tag, tlen, "<none>");
		return;
	}
	ref_format_short_repo(&ref, repo, rlen);
	snprintf(tag, tlen, "%s", ref.tag[0] ? ref.tag : "<none>");
}

void fmt_since(int64_t created, char *buf, size_t len)
{
	char d[64];

	if (created <= 0) {
		snprintf(buf, len, "N/A");
		return;
	}
	format_duration((int64_t)time(NULL) - created, d, sizeof(d));
	snprintf(buf, len, "%s ago", d);
}

void fmt_created_at(int64_t created, char *buf, size_t len)
{
	time_t t = (time_t)created;
	struct tm tm;

	localtime_r(&t, &tm);	/* Go's time.Time.String(), in the local zone as docker prints it */
	strftime(buf, len, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
}


void fmt_progress_bar(FILE *f, const char *id, const char *verb, uint64_t done, uint64_t total)
{
	char d[16], t[16], bar[52];
	int fill = total ? (int)(done * 50 / total) : 50;

	format_size_si(done, d, sizeof(d));
	format_size_si(total, t, sizeof(t));
	memset(bar, ' ', 50);
	memset(bar, '=', fill);
	if (fill < 50)
		bar[fill] = '>';
	bar[50] = '\0';
	fprintf(f, "\r%s: %s [%s] %8s/%s\033[K", id, verb, bar, d, t);
}
