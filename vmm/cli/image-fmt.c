/* Docker-looking names, times and sizes for the image commands. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "images/oci/ref.h"
#include "images/oci/store.h"
#include "vmm/base/log.h"
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

void fmt_duration(int64_t secs, char *buf, size_t len)
{
	int64_t hours = (secs + 1800) / 3600;

	if (secs < 1)
		snprintf(buf, len, "Less than a second");
	else if (secs == 1)
		snprintf(buf, len, "1 second");
	else if (secs < 60)
		snprintf(buf, len, "%lld seconds", (long long)secs);
	else if (secs / 60 == 1)
		snprintf(buf, len, "About a minute");
	else if (secs / 60 < 60)
		snprintf(buf, len, "%lld minutes", (long long)(secs / 60));
	else if (hours == 1)
		snprintf(buf, len, "About an hour");
	else if (hours < 48)
		snprintf(buf, len, "%lld hours", (long long)hours);
	else if (hours < 24 * 7 * 2)
		snprintf(buf, len, "%lld days", (long long)(hours / 24));
	else if (hours < 24 * 30 * 2)
		snprintf(buf, len, "%lld weeks", (long long)(hours / 24 / 7));
	else if (hours < 24 * 365 * 2)
		snprintf(buf, len, "%lld months", (long long)(hours / 24 / 30));
	else
		snprintf(buf, len, "%lld years", (long long)(secs / 3600 / 24 / 365));
}

void fmt_since(int64_t created, char *buf, size_t len)
{
	char d[64];

	if (created <= 0) {
		snprintf(buf, len, "N/A");
		return;
	}
	fmt_duration((int64_t)time(NULL) - created, d, sizeof(d));
	snprintf(buf, len, "%s ago", d);
}

void fmt_created_at(int64_t created, char *buf, size_t len)
{
	time_t t = (time_t)created;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
}
