/*
 * The events of removed containers, for `events --since` (events.c): the
 * store keeps a container's history while the container exists; this
 * journal keeps it after `rm`. Bounded: two files of about 1 MiB each.
 */
#ifndef VMM_ENGINE_EVENTS_JOURNAL_H
#define VMM_ENGINE_EVENTS_JOURNAL_H

#include <stdint.h>

#include "vmm/engine/events.h"

struct container;

/* c is being removed: journal its create, start, die (as its state tells) and destroy (now). */
void events_journal_removed(const char *root, const struct container *c);
/*
 * The journal's events from since_ns to until_ns (inclusive), oldest file
 * first, to fn; the event's strings last only for the call. What fn
 * returned when < 0 (stop), else 0.
 */
int events_journal_read(const char *root, int64_t since_ns, int64_t until_ns,
			int (*fn)(void *arg, const struct engine_event *ev), void *arg);

#endif
