/*
 * The agent protocol decoders against hostile bytes: the input is a stream
 * of frames as a peer would send them; every frame is given to the decoder
 * its type selects (and the spec decoder to every frame, since it is the
 * most complex one).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest-agent/protocol.h"

static void decode(const struct proto_frame *f)
{
	char str[512];
	struct proto_spec spec;
	struct proto_hello h;
	struct proto_started st;
	struct proto_exit e;
	struct proto_result r;
	struct proto_reader rd;
	struct proto_proc p;
	uint16_t rows, cols;
	uint64_t v;

	if (proto_spec_decode(f->payload, f->len, &spec) == 0) {
		/* Everything the agent will use must be in bounds and terminated. */
		for (unsigned i = 0; i < spec.argc; i++)
			(void)strlen(spec.argv[i]);
		for (unsigned i = 0; i < spec.nenv; i++)
			(void)strlen(spec.env[i]);
		for (unsigned i = 0; i < spec.nmounts; i++)
			(void)strlen(spec.mounts[i].target);
		if (spec.argv[spec.argc] || spec.env[spec.nenv])
			__builtin_trap();
		proto_spec_free(&spec);
	}
	switch (f->type) {
	case PROTO_HELLO:
		proto_hello_decode(f->payload, f->len, &h);
		break;
	case PROTO_STARTED:
		if (proto_started_decode(f->payload, f->len, &st, str, sizeof(str)) == 0 && st.message)
			(void)strlen(st.message);
		break;
	case PROTO_EXIT:
		proto_exit_decode(f->payload, f->len, &e);
		break;
	case PROTO_RESULT:
		if (proto_result_decode(f->payload, f->len, &r, str, sizeof(str)) == 0 && r.message)
			(void)strlen(r.message);
		break;
	case PROTO_RESIZE:
		proto_resize_decode(f->payload, f->len, &rows, &cols);
		break;
	case PROTO_CP_IN:
	case PROTO_CP_OUT:
		if (proto_path_decode(f->payload, f->len, str, sizeof(str)) == 0)
			(void)strlen(str);
		break;
	case PROTO_TOP_RESULT:
		proto_reader_init(&rd, f->payload, f->len);
		while (proto_top_next(&rd, &p, str, sizeof(str)) == 1)
			(void)strlen(p.cmd ? p.cmd : "");
		break;
	default:
		proto_u64_decode(f->payload, f->len, TAG_INCREMENT, &v);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_frame f;
	struct proto_rx rx;
	size_t off = 0;

	/* Feed in uneven pieces, as a socket would deliver them. */
	proto_rx_init(&rx);
	while (off < size) {
		size_t n = 1 + (data[off] % 97);

		if (n > size - off)
			n = size - off;
		if (proto_rx_feed(&rx, data + off, n))
			break;
		off += n;
		int ret;
		while ((ret = proto_rx_next(&rx, &f)) == 1)
			decode(&f);
		if (ret < 0)
			break;
	}
	proto_rx_free(&rx);
	return 0;
}
