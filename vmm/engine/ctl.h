/*
 * The control socket of a running container ($VMM_RUNTIME/<id>/ctl.sock):
 * one JSON object per line each way, with file descriptors passed alongside
 * (SCM_RIGHTS) so `vmm exec` hands its own stdio straight to the runner.
 *
 * Requests: {"op":"stop","timeout":10} {"op":"kill","signal":9}
 *   {"op":"exec", spec..., fds: stdin, stdout, stderr}
 *   {"op":"signal","signal":N} / {"op":"resize","rows":R,"cols":C} (to the exec on this connection)
 *   {"op":"cp_in","path":P, fd: tar} {"op":"cp_out","path":P, fd: tar} {"op":"top"}
 * Replies: {"ok":true,...} or {"error":"..."}; exec adds {"event":"started","pid":N}
 *   and {"event":"exit","code":N}.
 */
#ifndef VMM_ENGINE_CTL_H
#define VMM_ENGINE_CTL_H

#include <json-c/json.h>
#include <stddef.h>

#define CTL_MAX_FDS	3
#define CTL_LINE_MAX	(256 * 1024)

struct ctl_reader {
	char *buf;
	size_t len, cap;
	int fds[CTL_MAX_FDS];	/* received, not yet handed out */
	unsigned nfds;
};

/* $VMM_RUNTIME/<id>/ctl.sock */
int ctl_path(const char *runtime, const char *id, char *buf, size_t len);
/* Bind and listen (creating the directory, replacing a stale socket). fd or -errno. */
int ctl_listen(const char *path);
/* Connect to a running container's socket. fd or -errno. */
int ctl_connect(const char *path);
/* Send one message with up to CTL_MAX_FDS descriptors. 0 or -errno. */
int ctl_send(int fd, json_object *msg, const int *fds, unsigned nfds);
/*
 * Read what is available (blocking or not, as fd is) and return the next
 * complete message: 1 with *msg (and the fds that came with it moved to
 * fds/nfds), 0 when more input is needed (EAGAIN), -EPIPE at EOF, -errno.
 */
int ctl_recv(int fd, struct ctl_reader *r, json_object **msg, int *fds, unsigned *nfds);
void ctl_reader_free(struct ctl_reader *r);

#endif
