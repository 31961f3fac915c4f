/*
 * A container's place on a network (vmm/engine/lan.c) without a guest: addresses given under the
 * network's lock, --ip, the last address kept, crashed holders' records reclaimed, names resolved,
 * nothing left behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/lan.h"
#include "vmm/engine/network.h"
#include "vmm/engine/paths.h"
#include "tests/unit/tap.h"

static void config(struct container_config *c, char digit, const char *name, const char *mac)
{
	memset(c, 0, sizeof(*c));
	memset(c->id, digit, CONTAINER_ID_LEN);
	c->name = (char *)name;
	c->net.network = (char *)"appnet";
	snprintf(c->net.mac, sizeof(c->net.mac), "%s", mac);
}

static const char *resolve(struct lan_endpoint *ep, const char *name)
{
	static char buf[16];
	struct in_addr a;

	if (!lan_resolve(ep, name, &a))
		return "none";
	return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

int main(void)
{
	char dir[] = "/tmp/vmm-lan-test.XXXXXX", root[300], runtime[300], netdir[400];
	struct paths p = { root, runtime };
	struct network net;
	struct network_create_opts o = { .name = "appnet", .subnet = "10.89.40.0/29" };
	struct container_config a, b, c, d;
	struct lan_endpoint ea, eb, ec, ed;
	struct error e = { 0 };
	char *aliases[] = { (char *)"db", NULL }, ip[16];
	struct stat st;

	if (!mkdtemp(dir))
		return 1;
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(runtime, sizeof(runtime), "%s/run", dir);
	mkdir(root, 0700);
	if (network_create(root, &o, &net, &e)) {
		ok(0, "network created: %s", e.msg);
		return tap_done();
	}
	snprintf(netdir, sizeof(netdir), "%s/networks/%.12s", runtime, net.id);

	config(&a, 'a', "alpha", "02:00:00:00:00:0a");
	a.net.aliases = aliases;
	config(&b, 'b', "bravo", "02:00:00:00:00:0b");
	ok(lan_join(&p, &a, NULL, &ea, &e) == 0 && !strcmp(ea.ip_str, "10.89.40.2") &&
	   !strcmp(ea.cidr, "10.89.40.2/29") && !strcmp(ea.gateway, "10.89.40.1"),
	   "the first container gets the first address after the gateway (%s)", ea.ip_str);
	ok(lan_join(&p, &b, "10.89.40.2", &eb, &e) == 0 && !strcmp(eb.ip_str, "10.89.40.3"),
	   "the next gets the next: a last address another holds is not taken (%s)", eb.ip_str);
	ok(!strcmp(resolve(&ea, "bravo"), "10.89.40.3") && !strcmp(resolve(&eb, "alpha"), "10.89.40.2") &&
	   !strcmp(resolve(&eb, "db"), "10.89.40.2") && !strcmp(resolve(&eb, "aaaaaaaaaaaa"), "10.89.40.2") &&
	   !strcmp(resolve(&eb, "ALPHA"), "10.89.40.2"),
	   "names resolve: name, alias, short ID, any case");
	ok(!strcmp(resolve(&ea, "charlie"), "none") && !strcmp(resolve(&ea, "aaaaaaaaaaa"), "none"),
	   "unknown names and shorter ID prefixes do not");
	ok(lan_address(runtime, &net, b.id, ip) == 0 && !strcmp(ip, "10.89.40.3"), "lan_address finds a container");

	config(&c, 'c', "charlie", "02:00:00:00:00:0c");
	c.net.ip = (char *)"10.89.40.3/29";
	e = (struct error){ 0 };
	ok(lan_join(&p, &c, NULL, &ec, &e) == -EADDRINUSE && strstr(e.msg, "10.89.40.3: the address is already in use"),
	   "--ip of a running container's address: refused (%s)", e.msg);
	c.net.ip = (char *)"10.89.40.6/29";
	ok(lan_join(&p, &c, NULL, &ec, &e) == 0 && !strcmp(ec.ip_str, "10.89.40.6"), "--ip: the address asked for");
	config(&d, 'd', "delta", "02:00:00:00:00:0b");
	e = (struct error){ 0 };
	ok(lan_join(&p, &d, NULL, &ed, &e) == -EADDRINUSE && strstr(e.msg, "--mac-address 02:00:00:00:00:0b"),
	   "a MAC a running container has: refused (%s)", e.msg);
	snprintf(d.net.mac, sizeof(d.net.mac), "02:00:00:00:00:0d");
	ok(lan_join(&p, &d, "10.89.40.5", &ed, &e) == 0 && !strcmp(ed.ip_str, "10.89.40.5"), "a free last address is kept");
	{
		struct container_config x;
		struct lan_endpoint ex;

		struct container_config y;
		struct lan_endpoint ey;

		config(&x, 'e', "echo", "02:00:00:00:00:0e");
		config(&y, 'f', "foxtrot", "02:00:00:00:00:0f");
		ok(lan_join(&p, &x, NULL, &ex, &e) == 0 && !strcmp(ex.ip_str, "10.89.40.4"), "the last free address (%s)",
		   ex.ip_str);
		e = (struct error){ 0 };
		ok(lan_join(&p, &y, NULL, &ey, &e) == -ENOSPC && strstr(e.msg, "network appnet (10.89.40.0/29) has no free address"),
		   "a full network says so (%s)", e.msg);
		lan_leave(&p, &ex);
	}

	{
		json_object *eps = lan_endpoints_json(runtime, &net), *ep = NULL;
		const char *text;

		json_object_object_get_ex(eps, a.id, &ep);
		text = ep ? json_object_to_json_string_ext(ep, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "";
		ok(json_object_object_length(eps) == 4 && !strcmp(text, "{\"Name\":\"alpha\",\"MacAddress\":"
		   "\"02:00:00:00:00:0a\",\"IPv4Address\":\"10.89.40.2/29\",\"IPv6Address\":\"\"}"),
		   "network inspect's Containers: each running one, as docker shows it (%s)", text);
		json_object_put(eps);
	}
	/* B's vmm crashes: its record stays, unlocked; the next join reclaims its address */
	close(eb.fd);
	ok(!strcmp(resolve(&ea, "bravo"), "none"), "a crashed container's name no longer resolves");
	{
		struct container_config x;
		struct lan_endpoint ex;

		config(&x, 'e', "echo", "02:00:00:00:00:0e");
		ok(lan_join(&p, &x, NULL, &ex, &e) == 0 && !strcmp(ex.ip_str, "10.89.40.3"),
		   "a crashed container's address is given again (%s)", ex.ip_str);
		lan_leave(&p, &ex);
	}
	network_free(&eb.net);
	lan_leave(&p, &ea);
	lan_leave(&p, &ec);
	ok(stat(netdir, &st) == 0, "the folder stays while a container is on the network");
	lan_leave(&p, &ed);
	ok(stat(netdir, &st) < 0, "the last one out removes the network's folder");
	snprintf(netdir, sizeof(netdir), "%s/networks", runtime);
	ok(stat(netdir, &st) < 0, "... and the networks folder");
	/* a vmm killed with SIGKILL leaves its record: vmm rm -f reaps it */
	ok(lan_join(&p, &a, NULL, &ea, &e) == 0, "joined again");
	close(ea.fd);
	lan_reap(&p, "appnet");
	ok(stat(netdir, &st) < 0, "a killed container's record is reaped, and the folders with it");
	network_free(&ea.net);
	network_free(&net);
	remove_tree(AT_FDCWD, dir);
	return tap_done();
}
