/*
 * Host ports for -p: is one free, pick a free one, and who holds one that
 * is not (from /proc/net/{tcp,udp} and /proc/PID/fd, this network namespace).
 */
#ifndef VMM_ENGINE_NETPORT_H
#define VMM_ENGINE_NETPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct port_binding;

/*
 * Bind the binding's host address and port as the forward will (TCP with
 * SO_REUSEADDR, so TIME_WAIT does not count; UDP without, so a second
 * forward cannot share it). 0, -EADDRINUSE, -EACCES, -EADDRNOTAVAIL...
 */
int netport_probe(const struct port_binding *b);
/* Let the kernel choose a free port for the binding (host_port 0): 0 or -errno. */
int netport_pick(struct port_binding *b);
/* The process holding a port: 0 with pid and comm, or -ENOENT. */
int netport_holder(bool udp, uint16_t port, pid_t *pid, char *comm, size_t len);
/* pid's parent (/proc/PID/stat), or 0 if unknown. */
pid_t netport_parent(pid_t pid);

#endif
