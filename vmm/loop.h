/* The event loop: one epoll thread serves every backend (disk, net, vsock, stdio, control). */
#ifndef VMM_LOOP_H
#define VMM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct event_loop;

/* Called on the loop thread with the epoll events that fired. */
typedef void (*loop_fn)(void *opaque, uint32_t events);

int loop_create(struct event_loop **out);
void loop_destroy(struct event_loop *loop);

/* Watch fd for events (EPOLLIN...). One registration per fd. 0 or -errno. */
int loop_add(struct event_loop *loop, int fd, uint32_t events, loop_fn fn, void *opaque);
int loop_modify(struct event_loop *loop, int fd, uint32_t events);
void loop_remove(struct event_loop *loop, int fd);

/*
 * A periodic (interval_ms > 0) or one-shot timer on a timerfd; returns the fd
 * (use loop_timer_set to re-arm, loop_remove + close to drop) or -errno.
 */
int loop_add_timer(struct event_loop *loop, unsigned interval_ms, loop_fn fn, void *opaque);
int loop_timer_set(int timer_fd, uint64_t first_ns, uint64_t interval_ns);

/* Run until loop_stop; returns 0 or -errno. */
int loop_run(struct event_loop *loop);
/*
 * Wait up to timeout_ms (-1: forever) for one batch of events and dispatch
 * it: the number of events, or -errno. loop_run repeats it; tests step with it.
 */
int loop_run_once(struct event_loop *loop, int timeout_ms);
/* Safe from any thread and from signal handlers' callers. */
void loop_stop(struct event_loop *loop);

#endif
