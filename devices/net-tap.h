/*
 * A host tap device as the guest's wire (--network tap:NAME). The device
 * must exist already (`ip tuntap add mode tap name NAME user USER`): vmm
 * attaches to it and never creates, addresses or bridges anything on the
 * host. Frames are read and written without a vnet header; the device
 * completes the guest's partial checksums before they get here.
 */
#ifndef VMM_DEVICES_NET_TAP_H
#define VMM_DEVICES_NET_TAP_H

#include <stddef.h>

struct event_loop;
struct net_backend;

/*
 * Attach to tap device `name`. On failure: -errno and one line in err
 * saying what is wrong with the device and what to do (nothing logged).
 */
int net_tap_create(struct event_loop *loop, const char *name, char *err, size_t errlen,
		   struct net_backend **out);
/* The same checks without keeping the device: 0 or -errno with err filled. */
int net_tap_check(const char *name, char *err, size_t errlen);

#endif
