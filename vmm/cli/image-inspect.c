/* vmm image inspect: docker-like JSON about images. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/ref.h"
#include "vmm/base/strv.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"

static void usage(void)
{
	printf("Usage: vmm image inspect IMAGE [IMAGE...]\n\n"
	       "Show what the store knows about images, as a JSON array like docker's.\n\n"
	       "Options:\n"
	       "  -h, --help   show this help\n");
}

static json_object *str_or_empty(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *container_config(const struct image_config *c)
{
	json_object *o = json_object_new_object(), *ports = NULL, *vols = NULL, *labels = NULL;

	json_object_object_add(o, "User", str_or_empty(c->user));
	if (c->n_ports) {
		ports = json_object_new_object();
		for (size_t i = 0; i < c->n_ports; i++) {
			char key[16];

			snprintf(key, sizeof(key), "%u/%s", c->ports[i].port, c->ports[i].proto);
			json_object_object_add(ports, key, json_object_new_object());
		}
	}
	json_object_object_add(o, "ExposedPorts", ports);
	json_object_object_add(o, "Env", (c->env ? strv_to_json(c->env) : NULL));
	json_object_object_add(o, "Cmd", (c->cmd ? strv_to_json(c->cmd) : NULL));
	if (c->volumes) {
		vols = json_object_new_object();
		for (size_t i = 0; c->volumes[i]; i++)
			json_object_object_add(vols, c->volumes[i], json_object_new_object());
	}
	json_object_object_add(o, "Volumes", vols);
	json_object_object_add(o, "WorkingDir", str_or_empty(c->working_dir));
	json_object_object_add(o, "Entrypoint", (c->entrypoint ? strv_to_json(c->entrypoint) : NULL));
	if (c->label_keys) {
		labels = json_object_new_object();
		for (size_t i = 0; c->label_keys[i]; i++)
			json_object_object_add(labels, c->label_keys[i],
					       json_object_new_string(c->label_values[i]));
	}
	json_object_object_add(o, "Labels", labels);
	if (c->stop_signal)
		json_object_object_add(o, "StopSignal", json_object_new_string(c->stop_signal));
	return o;
}

static json_object *image_json(const struct image *img)
{
	json_object *o = json_object_new_object(), *tags = json_object_new_array();
	json_object *digests = json_object_new_array(), *rootfs, *desc;

	json_object_object_add(o, "Id", json_object_new_string(img->config_digest));
	for (size_t i = 0; img->tags[i]; i++) {
		char name[REF_STR_MAX], repodigest[REF_STR_MAX + DIGEST_BUF];
		struct image_ref ref;
		bool dup = false;

		if (ref_parse(img->tags[i], 0, &ref, NULL))
			continue;
		ref_format_short(&ref, name, sizeof(name));
		if (!ref.digest[0])	/* name@digest (a pull by digest) is only a repo digest */
			json_object_array_add(tags, json_object_new_string(name));
		ref_format_short_repo(&ref, name, sizeof(name));
		snprintf(repodigest, sizeof(repodigest), "%s@%s", name, img->digest);
		for (size_t j = 0; j < json_object_array_length(digests); j++)
			dup |= !strcmp(json_object_get_string(json_object_array_get_idx(digests, j)),
				       repodigest);
		if (!dup)
			json_object_array_add(digests, json_object_new_string(repodigest));
	}
	json_object_object_add(o, "RepoTags", tags);
	json_object_object_add(o, "RepoDigests", digests);
	json_object_object_add(o, "Parent", json_object_new_string(""));
	json_object_object_add(o, "Comment", json_object_new_string(""));
	json_object_object_add(o, "Created", str_or_empty(img->config.created));
	json_object_object_add(o, "Author", str_or_empty(img->config.author));
	json_object_object_add(o, "Config", container_config(&img->config));
	json_object_object_add(o, "Architecture", json_object_new_string(img->config.architecture));
	if (img->config.variant)
		json_object_object_add(o, "Variant", json_object_new_string(img->config.variant));
	json_object_object_add(o, "Os", json_object_new_string(img->config.os));
	json_object_object_add(o, "Size", json_object_new_int64((int64_t)img->size));
	rootfs = json_object_new_object();
	json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
	json_object_object_add(rootfs, "Layers", (img->config.diff_ids ? strv_to_json(img->config.diff_ids) : NULL));
	json_object_object_add(o, "RootFS", rootfs);
	desc = json_object_new_object();
	json_object_object_add(desc, "mediaType", json_object_new_string(img->manifest.media_type));
	json_object_object_add(desc, "digest", json_object_new_string(img->manifest_digest));
	json_object_object_add(desc, "size", json_object_new_int64((int64_t)img->manifest_len));
	json_object_object_add(o, "Descriptor", desc);
	return o;
}

int image_inspect_names(struct cli *cli, char **names, int n, const char *format)
{
	struct error e = { 0 };
	json_object *out;
	struct store *s;
	int status = 0;

	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	out = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct image *img;

		if (image_open(s, names[i], &img, &e)) {
			status = cli_fail(&e, 1);
			continue;
		}
		json_object_array_add(out, image_json(img));
		image_close(img);
	}
	if (!status)
		status = cli_print_objects(out, format);
	json_object_put(out);
	store_close(s);
	return status;
}

int cmd_image_inspect(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			format = optarg;
			continue;
		}
		if (c == 'h') {
			usage();
			return 0;
		}
		return cli_usage_error("image inspect", "unknown option");
	}
	if (optind >= argc)
		return cli_usage_error("image inspect", "missing IMAGE");
	return image_inspect_names(cli, argv + optind, argc - optind, format);
}
