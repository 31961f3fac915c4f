#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/loop.h"

struct loop_entry {
	int fd;
	loop_fn fn;
	void *opaque;
	bool is_timer;
	struct loop_entry *next;
};

struct event_loop {
	int epfd;
	int stop_fd;
	atomic_bool stopped;
	struct loop_entry *entries;
	/* Entries removed while dispatching are freed after the batch. */
	struct loop_entry *graveyard;
};

int loop_create(struct event_loop **out)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->stop_fd < 0)
		goto fail;
	ev.data.ptr = NULL;	/* NULL marks the stop eventfd */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_fd, &ev) < 0)
		goto fail;
	*out = loop;
	return 0;
fail:
	ret = -errno;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->stop_fd >= 0)
		close(loop->stop_fd);
	free(loop);
	return ret;
}

static void free_list(struct loop_entry *e, bool close_timers)
{
	while (e) {
		struct loop_entry *next = e->next;

		if (close_timers && e->is_timer)
			close(e->fd);
		free(e);
		e = next;
	}
}

void loop_destroy(struct event_loop *loop)
{
	if (!loop)
		return;
	free_list(loop->entries, true);
	free_list(loop->graveyard, false);
	close(loop->epfd);
	close(loop->stop_fd);
	free(loop);
}

int loop_add(struct event_loop *loop, int fd, uint32_t events, loop_fn fn, void *opaque)
{
	struct loop_entry *e = calloc(1, sizeof(*e));
	struct epoll_event ev = { .events = events };

	if (!e)
		return -ENOMEM;
	e->fd = fd;
	e->fn = fn;
	e->opaque = opaque;
	ev.data.ptr = e;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(e);
		return err;
	}
	e->next = loop->entries;
	loop->entries = e;
	return 0;
}

static struct loop_entry *find(struct event_loop *loop, int fd, struct loop_entry ***link)
{
	for (struct loop_entry **p = &loop->entries; *p; p = &(*p)->next) {
		if ((*p)->fd == fd) {
			if (link)
				*link = p;
			return *p;
		}
	}
	return NULL;
}

int loop_modify(struct event_loop *loop, int fd, uint32_t events)
{
	struct loop_entry *e = find(loop, fd, NULL);
	struct epoll_event ev = { .events = events };

	if (!e)
		return -ENOENT;
	ev.data.ptr = e;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_remove(struct event_loop *loop, int fd)
{
	struct loop_entry **link, *e = find(loop, fd, &link);

	if (!e)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	*link = e->next;
	e->fn = NULL;	/* a pending event for it in this batch is ignored */
	e->next = loop->graveyard;
	loop->graveyard = e;
}

int loop_timer_set(int timer_fd, uint64_t first_ns, uint64_t interval_ns)
{
	struct itimerspec its = {
		.it_value = { first_ns / 1000000000, first_ns % 1000000000 },
		.it_interval = { interval_ns / 1000000000, interval_ns % 1000000000 },
	};

	return timerfd_settime(timer_fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int loop_add_timer(struct event_loop *loop, unsigned interval_ms, loop_fn fn, void *opaque)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int ret;

	if (fd < 0)
		return -errno;
	if (interval_ms) {
		uint64_t ns = (uint64_t)interval_ms * 1000000;

		ret = loop_timer_set(fd, ns, ns);
		if (ret)
			goto fail;
	}
	ret = loop_add(loop, fd, EPOLLIN, fn, opaque);
	if (ret)
		goto fail;
	find(loop, fd, NULL)->is_timer = true;
	return fd;
fail:
	close(fd);
	return ret;
}

/* One epoll_wait and its dispatch: events handled, or -errno. */
static int run_batch(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(loop->epfd, evs, 32, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n && !atomic_load(&loop->stopped); i++) {
		struct loop_entry *e = evs[i].data.ptr;

		if (!e || !e->fn)
			continue;
		if (e->is_timer) {
			uint64_t ticks;

			if (read(e->fd, &ticks, sizeof(ticks)) < 0)
				continue;
		}
		e->fn(e->opaque, evs[i].events);
	}
	free_list(loop->graveyard, false);
	loop->graveyard = NULL;
	return n;
}

int loop_run(struct event_loop *loop)
{
	while (!atomic_load(&loop->stopped)) {
		int ret = loop_run_once(loop, -1);

		if (ret < 0)
			return ret;
	}
	return 0;
}

int loop_run_once(struct event_loop *loop, int timeout_ms)
{
	return run_batch(loop, timeout_ms);
}

void loop_stop(struct event_loop *loop)
{
	uint64_t one = 1;

	atomic_store(&loop->stopped, true);
	if (write(loop->stop_fd, &one, sizeof(one)) < 0)
		pr_debug("stop eventfd: %s", strerror(errno));
}
