/*
 * The DNS answers of a container network's gateway (devices/net-lan.c):
 * recognise a guest's query (an IPv4/UDP frame to the gateway's port 53)
 * and build the reply frame. Frames come from the guest: every length and
 * label is checked, compressed names and odd queries are not answered here.
 */
#ifndef VMM_DEVICES_NET_DNS_H
#define VMM_DEVICES_NET_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_TYPE_A	1
#define DNS_TYPE_AAAA	28
#define DNS_RCODE_OK	0
#define DNS_RCODE_NXDOMAIN 3

struct dns_query {
	char name[256];		/* lower case, without the final dot */
	uint16_t type;
	size_t off, len;	/* the DNS header and question, within the frame */
};

/*
 * Is frame a standard query for one name, sent to server (network order)
 * on UDP port 53? true with q filled; false for anything else.
 */
bool dns_query_parse(const uint8_t *frame, size_t len, struct in_addr server, struct dns_query *q);

/*
 * The reply to query frame q, from server (its MAC and address) to the
 * sender: rcode, and with addr (NULL: none) one A record when q asks for A.
 * Returns the reply's length in out, or 0 when cap is too small.
 */
size_t dns_reply(const uint8_t *frame, const struct dns_query *q, const uint8_t server_mac[6],
		 struct in_addr server, int rcode, const struct in_addr *addr, uint8_t *out, size_t cap);

#endif
