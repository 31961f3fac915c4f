/*
 * A host tap device as the guest's wire (--network tap:NAME). The device
 * must exist already (`ip tuntap add mode tap name NAME user USER`): vmm
 * attaches to it and never creates, addresses or bridges anything on the
 * host. Frames are read and written without a vnet header; the device
 * completes the guest's partial checksums before they get here.
 */
#ifndef VMM_DEVICES_NET_TAP_H
#define VMM_DEVICES_NET_TAP_H

struct error;
struct event_loop;
struct net_backend;

/*
 * Attach to tap device `name`. On failure: -errno and e saying what is
 * wrong with the device and what to do.
 */
int net_tap_create(struct event_loop *loop, const char *name, struct net_backend **out,
		   struct error *e);
/* The same checks without keeping the device. */
int net_tap_check(const char *name, struct error *e);

#endif
