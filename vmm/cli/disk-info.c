/* vmm disk info [--json] [--backing-chain] FILE: what qemu-img info shows. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/disk/qcow2.h"
#include "vmm/cli/disk.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm disk info [--json] [--backing-chain] [-f FMT] FILE\n\n"
		"Show FILE's format, virtual and allocated size, cluster size, backing file and\n"
		"flags, as qemu-img info does.\n\n"
		"  --json                  JSON output (keys as qemu-img info --output=json)\n"
		"  --backing-chain         show every image of the backing chain\n"
		"  -f FMT                  image format (default: probed)\n"
		"  --allow-unsafe-backing  follow backing files outside the image's directory\n");
}

static json_object *describe(struct disk *d)
{
	json_object *o = json_object_new_object();
	struct stat st;

	json_object_object_add(o, "virtual-size", json_object_new_int64(d->size));
	json_object_object_add(o, "filename", json_object_new_string(d->path));
	json_object_object_add(o, "format", json_object_new_string(disk_format_name(d->format)));
	if (stat(d->path, &st) == 0)
		json_object_object_add(o, "actual-size", json_object_new_int64(st.st_blocks * 512LL));
	if (disk_is_qcow2(d)) {
		struct qcow2_info qi;
		json_object *fs = json_object_new_object(), *data = json_object_new_object();

		qcow2_get_info(d, &qi);
		json_object_object_add(o, "cluster-size", json_object_new_int64(qi.cluster_size));
		json_object_object_add(data, "compat",
				       json_object_new_string(qi.version == 3 ? "1.1" : "0.10"));
		if (qi.version == 3) {
			json_object_object_add(data, "compression-type",
					       json_object_new_string(qi.compression));
			json_object_object_add(data, "lazy-refcounts",
					       json_object_new_boolean(qi.lazy_refcounts));
		}
		json_object_object_add(data, "refcount-bits", json_object_new_int(qi.refcount_bits));
		json_object_object_add(data, "corrupt", json_object_new_boolean(qi.corrupt));
		if (qi.version == 3)
			json_object_object_add(data, "extended-l2",
					       json_object_new_boolean(qi.extended_l2));
		json_object_object_add(fs, "type", json_object_new_string("qcow2"));
		json_object_object_add(fs, "data", data);
		json_object_object_add(o, "format-specific", fs);
		if (qi.backing_file) {
			char *full = disk_backing_path(d->path, qi.backing_file);

			json_object_object_add(o, "backing-filename",
					       json_object_new_string(qi.backing_file));
			if (full)
				json_object_object_add(o, "full-backing-filename",
						       json_object_new_string(full));
			free(full);
			if (qi.backing_fmt)
				json_object_object_add(o, "backing-filename-format",
						       json_object_new_string(qi.backing_fmt));
		}
		if (qi.nb_snapshots)
			json_object_object_add(o, "snapshots", json_object_new_int(qi.nb_snapshots));
		json_object_object_add(o, "dirty-flag", json_object_new_boolean(qi.dirty));
	} else {
		json_object_object_add(o, "dirty-flag", json_object_new_boolean(false));
	}
	return o;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : -1;
}

static void print_text(json_object *o)
{
	json_object *fs, *data;
	char buf[32];
	const char *b = jstr(o, "backing-filename"), *full = jstr(o, "full-backing-filename");

	printf("image: %s\n", jstr(o, "filename"));
	printf("file format: %s\n", jstr(o, "format"));
	format_size_iec(jint(o, "virtual-size"), buf, sizeof(buf));
	printf("virtual size: %s (%lld bytes)\n", buf, (long long)jint(o, "virtual-size"));
	if (jint(o, "actual-size") >= 0) {
		format_size_iec(jint(o, "actual-size"), buf, sizeof(buf));
		printf("disk size: %s\n", buf);
	}
	if (jint(o, "cluster-size") > 0)
		printf("cluster_size: %lld\n", (long long)jint(o, "cluster-size"));
	if (b) {
		if (full && strcmp(full, b))
			printf("backing file: %s (actual path: %s)\n", b, full);
		else
			printf("backing file: %s\n", b);
		if (jstr(o, "backing-filename-format"))
			printf("backing file format: %s\n", jstr(o, "backing-filename-format"));
	}
	if (jint(o, "snapshots") > 0)
		printf("internal snapshots: %lld\n", (long long)jint(o, "snapshots"));
	{
		json_object *v;

		if (json_object_object_get_ex(o, "dirty-flag", &v) && json_object_get_boolean(v))
			printf("cleanly shut down: no\n");
	}
	if (json_object_object_get_ex(o, "format-specific", &fs) &&
	    json_object_object_get_ex(fs, "data", &data)) {
		printf("Format specific information:\n");
		json_object_object_foreach(data, k, v) {
			char key[64];

			snprintf(key, sizeof(key), "%s", k);
			for (char *p = key; *p; p++)
				if (*p == '-')
					*p = ' ';
			printf("    %s: %s\n", key, json_object_get_string(v));
		}
	}
}

int cmd_disk_info(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'O' },
		{ "backing-chain", no_argument, NULL, 'c' },
		{ "allow-unsafe-backing", no_argument, NULL, DISK_OPT_ALLOW_UNSAFE },
		{ NULL, 0, NULL, 0 },
	};
	enum disk_format fmt = DISK_FMT_AUTO;
	bool json = false, chain = false, allow_unsafe = false;
	json_object *arr;
	struct disk *d;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((ret = disk_cli_format("disk info", optarg, &fmt)))
				return ret;
			break;
		case 'j':
			json = true;
			break;
		case 'O':
			if (strcmp(optarg, "json") && strcmp(optarg, "human"))
				return cli_usage_error("disk info", "--output: json or human");
			json = !strcmp(optarg, "json");
			break;
		case 'c':
			chain = true;
			break;
		case DISK_OPT_ALLOW_UNSAFE:
			allow_unsafe = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_usage_error("disk info", "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("disk info", "expected one FILE");
	/* Without --backing-chain the backing file is named, not opened (it may be missing). */
	if (disk_cli_open(cli, argv[optind], fmt, true, allow_unsafe, !chain, &d))
		return 1;
	arr = json_object_new_array();
	for (struct disk *i = d; i; i = chain ? disk_backing(i) : NULL)
		json_object_array_add(arr, describe(i));
	disk_close(d);
	if (json) {
		json_object *out = chain ? arr : json_object_array_get_idx(arr, 0);

		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			if (i)
				printf("\n");
			print_text(json_object_array_get_idx(arr, i));
		}
	}
	json_object_put(arr);
	return 0;
}
