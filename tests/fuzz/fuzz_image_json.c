/*
 * libFuzzer target for the JSON documents of images: manifests, indexes,
 * configs (the first byte picks the parser), and whatever parses is
 * serialized and parsed again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	struct image_config c;
	struct oci_index idx;
	struct manifest m;
	struct error e;
	char *out;

	if (size < 1)
		return 0;
	size--;
	switch (data[0] % 3) {
	case 0:
		if (manifest_parse(buf, size, &m, &e) == 0) {
			out = manifest_to_json(&m);
			manifest_free(&m);
			if (out && manifest_parse(out, strlen(out), &m, &e) != 0)
				abort();	/* what we write must read back */
			if (out)
				manifest_free(&m);
			free(out);
		}
		break;
	case 1:
		if (index_parse(buf, size, &idx, &e) == 0) {
			out = index_to_json(&idx);
			index_free(&idx);
			if (out && index_parse(out, strlen(out), &idx, &e) != 0)
				abort();
			if (out)
				index_free(&idx);
			free(out);
		}
		break;
	default:
		if (config_parse(buf, size, &c, &e) == 0)
			config_free(&c);
		break;
	}
	return 0;
}
