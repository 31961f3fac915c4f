/*
 * Reading a container's logs (docker's json-file, see logfile.h) for vmm
 * logs and the Engine API's logs and attach: the last lines, then, when
 * following, what it writes while it runs.
 */
#ifndef VMM_ENGINE_LOGREAD_H
#define VMM_ENGINE_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/engine/logfile.h"

struct container;
struct error;

struct log_read_opts {
	long tail;		/* the last N lines; -1: all, 0: none (attach: only what comes) */
	bool follow;		/* then keep reading while it runs */
	bool await_start;	/* follow a container not started yet: wait for it to start first */
	int64_t since_ns;	/* only lines logged at or after this (ns since the epoch); 0: all */
	int64_t until_ns;	/* only lines logged before this; reading stops at the first after */
	/*
	 * Each piece of output: its stream, its time (RFC 3339, as logged) and
	 * its bytes; while waiting, now and then a heartbeat (data NULL, len 0).
	 * A negative return stops the reading (a client went away).
	 */
	int (*sink)(void *arg, enum log_stream s, const char *time, const char *data, size_t len);
	void *arg;
};

/* 0 once read (or the sink stopped it); -errno with e when the container's log cannot be read. */
int engine_logs(struct container *ct, const struct log_read_opts *o, struct error *e);

#endif
