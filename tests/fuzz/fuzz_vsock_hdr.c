/*
 * virtio-vsock packets from a hostile guest: header validation and the
 * connection state machine. The input is a series of records:
 *   u8 control, 44-byte virtio_vsock_hdr, payload (as much as the header's
 *   len claims and the input still has)
 * control bit 0/1 force valid CIDs / the stream type (so the fuzzer reaches
 * the state machine), bits 2-3 make the host end write or close, bits 4-7
 * pick the rx buffer size used to drain the packets for the guest.
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio/vsock-core.h"
#include "vmm/loop.h"

#define CID 3
#define MAX_FDS 8

static struct event_loop *loop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fds[MAX_FDS];
static unsigned nfds;
static uint8_t out[VSOCK_MAX_PKT];

static void on_accept(void *opaque, int fd, uint32_t port)
{
	if (nfds < MAX_FDS)
		fds[nfds++] = fd;
	else
		close(fd);
}

static void drain(struct vsock_core *c, uint32_t cap)
{
	struct vsock_hdr h;

	for (int i = 0; i < 64 && vsock_core_next_rx(c, &h, out, cap); i++) {
		if (h.len > cap || h.src_cid != VSOCK_HOST_CID || h.dst_cid != CID)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vsock_core_config cfg = { .name = "fuzz", .lock = &lock, .guest_cid = CID };
	struct vsock_core c;
	size_t off = 0;

	if (!loop) {
		/* as the VMM does (engine/agent.c): a write to a closed peer is an error, not death */
		signal(SIGPIPE, SIG_IGN);
		if (loop_create(&loop))
			return 0;
	}
	cfg.loop = loop;
	if (vsock_core_init(&c, &cfg))
		return 0;
	vsock_core_listen(&c, 1024, on_accept, NULL);
	vsock_core_listen(&c, 1025, on_accept, NULL);
	while (size - off >= 1 + VSOCK_HDR_SIZE) {
		uint8_t ctl = data[off];
		enum vsock_verdict v;
		struct vsock_hdr h;
		const char *why;
		uint32_t avail;

		vsock_hdr_decode(data + off + 1, &h);
		off += 1 + VSOCK_HDR_SIZE;
		if (ctl & 1) {
			h.src_cid = CID;
			h.dst_cid = VSOCK_HOST_CID;
		}
		if (ctl & 2)
			h.type = VSOCK_TYPE_STREAM;
		avail = size - off < h.len ? size - off : h.len;
		v = vsock_hdr_check(&h, CID, avail, &why);
		if (v == VSOCK_PKT_OK) {
			vsock_core_guest_packet(&c, &h, data + off);
			off += h.len;
		} else {
			vsock_core_guest_bad(&c, &h, v, why);
		}
		vsock_core_run_deferred(&c);
		if (nfds && (ctl & 4)) {
			if (write(fds[ctl % nfds], data, size < 300 ? size : 300) < 0)
				(void)0;
		}
		if (nfds && (ctl & 8)) {
			close(fds[nfds - 1]);
			nfds--;
		}
		loop_run_once(loop, 0);
		drain(&c, 1u << (ctl >> 4));
	}
	drain(&c, 4096);
	vsock_core_destroy(&c);
	while (nfds)
		close(fds[--nfds]);
	loop_run_once(loop, 0);
	return 0;
}
