/* The network part of a container's config.json and state.json (vmm/container.c). */
#ifndef VMM_ENGINE_CONTAINER_NET_H
#define VMM_ENGINE_CONTAINER_NET_H

#include <json-c/json.h>
#include <stddef.h>

#include "vmm/base/json.h"
#include "vmm/engine/netcfg.h"

/* Add NetworkMode, PortBindings, Dns, DnsSearch, ExtraHosts, MacAddress, IPAddress, Gateway to host. */
void container_net_to_json(const struct net_config *n, json_object *host);
/* Read them back; absent fields keep their defaults (slirp, no ports). */
int container_net_parse(json_object *host, struct net_config *n, struct error *e);

/* [{"HostIp", "HostPort", "ContainerPort", "Protocol"}] */
json_object *container_ports_json(const struct port_binding *p, size_t n);
/* docker's map form: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]} */
json_object *container_ports_docker_json(const struct port_binding *p, size_t n);
/* docker ps's PORTS column: "0.0.0.0:8080->80/tcp, 0.0.0.0:5353->53/udp". */
void container_ports_format(const struct port_binding *p, size_t n, char *buf, size_t len);
/* Parse such an array (NULL: none) into out[max]. */
int container_ports_parse(json_object *arr, const char *ctx, struct port_binding *out, size_t max,
			  size_t *n, struct error *e);

#endif
