/*
 * Network settings from the command line (vmm/netcfg.c) and host port checks
 * (vmm/netport.c): docker's -p forms, ranges, bad specs, MAC/IP/hosts
 * validation, the config.json round trip, and real sockets for "port in use"
 * and "who holds it".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "images/oci/spec.h"
#include "tests/unit/tap.h"
#include "vmm/base/error.h"
#include "vmm/engine/run-net.h"
#include "vmm/engine/container-net.h"
#include "vmm/engine/create.h"
#include "vmm/engine/netcfg.h"
#include "vmm/engine/netport.h"

static struct port_binding *ports;
static size_t nports;
static struct error err;

static int parse(const char *spec)
{
	free(ports);
	ports = NULL;
	nports = 0;
	err_clear(&err);
	return netcfg_parse_port(spec, &ports, &nports, &err);
}

static bool is(size_t i, const char *ip, unsigned hp, unsigned cp, bool udp)
{
	return i < nports && !strcmp(ports[i].host_ip, ip) && ports[i].host_port == hp &&
	       ports[i].container_port == cp && ports[i].udp == udp;
}

static void test_parse(void)
{
	char buf[64];

	ok(parse("8080:80") == 0 && nports == 1 && is(0, "", 8080, 80, false), "-p 8080:80");
	ok(parse("80") == 0 && is(0, "", 0, 80, false), "-p 80: a free host port");
	ok(parse("127.0.0.1:8080:80/udp") == 0 && is(0, "127.0.0.1", 8080, 80, true), "-p IP:HOST:CONTAINER/udp");
	ok(parse("127.0.0.1::80") == 0 && is(0, "127.0.0.1", 0, 80, false), "-p IP::CONTAINER: free port on IP");
	ok(parse("0.0.0.0:9000:90/tcp") == 0 && is(0, "", 9000, 90, false), "0.0.0.0 is the default address");
	ok(parse("53/udp") == 0 && is(0, "", 0, 53, true), "-p 53/udp");
	ok(parse("8000-8002:80-82") == 0 && nports == 3 && is(0, "", 8000, 80, false) &&
	   is(2, "", 8002, 82, false), "-p with equal ranges");
	ok(parse("7000-7001") == 0 && nports == 2 && is(1, "", 0, 7001, false), "-p container range: free ports");
	ok(parse("65535:1") == 0 && is(0, "", 65535, 1, false), "-p port bounds");

	ok(parse("8080:80/sctp") == -EINVAL && strstr(err.msg, "unknown protocol 'sctp'"), "sctp refused: %s", err.msg);
	ok(parse("abc") == -EINVAL && strstr(err.msg, "container port 'abc'"), "non-numeric container port: %s", err.msg);
	ok(parse("8080:") == -EINVAL, "empty container port");
	ok(parse(":80") == -EINVAL && strstr(err.msg, "empty host port"), "empty host port: %s", err.msg);
	ok(parse("0:80") == -EINVAL, "host port 0 refused");
	ok(parse("65536:80") == -EINVAL && strstr(err.msg, "host port '65536'"), "host port 65536: %s", err.msg);
	ok(parse("80:0") == -EINVAL, "container port 0");
	ok(parse("999.1.1.1:80:80") == -EINVAL && strstr(err.msg, "not an IPv4 address"), "bad IP: %s", err.msg);
	ok(parse("[::1]:80:80") == -EINVAL && strstr(err.msg, "IPv6"), "IPv6 refused: %s", err.msg);
	ok(parse("1:2:3:4") == -EINVAL && strstr(err.msg, "too many"), "too many colons: %s", err.msg);
	ok(parse("8000-8002:80-81") == -EINVAL && strstr(err.msg, "differ"), "unequal ranges: %s", err.msg);
	ok(parse("90-80") == -EINVAL, "backwards range");
	ok(parse("8080:80/") == -EINVAL, "empty protocol");
	ok(parse("1-300") == -E2BIG && strstr(err.msg, "more than 256"), "too many ports: %s", err.msg);
	ok(parse("") == -EINVAL, "empty spec");

	parse("8080:80");
	netcfg_format_port(&ports[0], buf, sizeof(buf));
	ok(!strcmp(buf, "0.0.0.0:8080->80/tcp"), "docker ps form: %s", buf);
	parse("127.0.0.1:53:5353/udp");
	netcfg_format_port(&ports[0], buf, sizeof(buf));
	ok(!strcmp(buf, "127.0.0.1:53->5353/udp"), "docker ps form, udp: %s", buf);

	/* Clashes between the container's own bindings */
	free(ports);
	ports = NULL;
	nports = 0;
	netcfg_parse_port("8080:80", &ports, &nports, &err);
	netcfg_parse_port("8080:80/udp", &ports, &nports, &err);
	ok(!netcfg_port_clash(ports, nports, NULL), "same port, tcp and udp: no clash");
	netcfg_parse_port("127.0.0.1:8080:81", &ports, &nports, &err);
	{
		const struct port_binding *other = NULL, *a = netcfg_port_clash(ports, nports, &other);

		ok(a && a->container_port == 81 && other && other->container_port == 80,
		   "0.0.0.0:8080 and 127.0.0.1:8080 clash");
	}
}

static void test_values(void)
{
	struct net_config c = { 0 };
	char mac[18], cidr[32];

	ok(netcfg_parse_mode("none", &c, &err) == 0 && c.mode == NET_MODE_NONE, "--network none");
	ok(netcfg_parse_mode("tap:tap0", &c, &err) == 0 && c.mode == NET_MODE_TAP &&
	   !strcmp(c.tap, "tap0"), "--network tap:tap0");
	ok(netcfg_parse_mode("slirp", &c, &err) == 0 && c.mode == NET_MODE_SLIRP, "--network slirp");
	ok(netcfg_parse_mode("bridge", &c, &err) == 0 && c.mode == NET_MODE_SLIRP, "bridge means slirp");
	ok(netcfg_parse_mode("host", &c, &err) == -EINVAL && strstr(err.msg, "own kernel"), "host refused: %s", err.msg);
	ok(netcfg_parse_mode("container:web", &c, &err) == -EINVAL && strstr(err.msg, "unknown mode"),
	   "container:NAME refused");
	ok(netcfg_parse_mode("app_default", &c, &err) == 0 && c.mode == NET_MODE_SLIRP && c.network &&
	   !strcmp(c.network, "app_default"), "a network's name is kept (checked at create)");
	{
		struct net_config copy;
		char mode[80];

		netcfg_mode_string(&c, mode, sizeof(mode));
		ok(!strcmp(mode, "app_default"), "its NetworkMode is the network's name");
		ok(netcfg_copy(&copy, &c) == 0 && copy.network && copy.network != c.network &&
		   !strcmp(copy.network, "app_default"), "copied with the config");
		netcfg_free(&copy);
	}
	ok(netcfg_parse_mode("-bad", &c, &err) == -EINVAL && !c.network, "a name starting with '-' is refused");
	ok(netcfg_parse_mode("slirp", &c, &err) == 0 && !c.host_loopback, "the host's loopback is off by default");
	ok(netcfg_parse_mode("slirp:allow_host_loopback=true", &c, &err) == 0 && c.mode == NET_MODE_SLIRP &&
	   c.host_loopback, "--network slirp:allow_host_loopback=true");
	ok(netcfg_parse_mode("slirp4netns:allow_host_loopback=true", &c, &err) == 0 && c.host_loopback,
	   "podman's spelling: slirp4netns:allow_host_loopback=true");
	{
		char mode[64];

		netcfg_mode_string(&c, mode, sizeof(mode));
		ok(!strcmp(mode, "slirp:allow_host_loopback=true"), "the mode keeps the option: %s", mode);
	}
	ok(netcfg_parse_mode("slirp:mtu=1500", &c, &err) == -EINVAL && strstr(err.msg, "unknown option"),
	   "unknown slirp option refused: %s", err.msg);
	ok(netcfg_parse_mode("tap:", &c, &err) == -EINVAL, "tap without a name");
	ok(netcfg_parse_mode("tap:a-very-long-interface-name", &c, &err) == -EINVAL, "tap name too long");
	ok(netcfg_parse_mode("tap:../x", &c, &err) == -EINVAL, "tap name with a slash");

	ok(netcfg_parse_mac("02:42:AC:11:00:02", mac) == 0 && !strcmp(mac, "02:42:ac:11:00:02"), "MAC normalised");
	ok(netcfg_parse_mac("01:00:5e:00:00:01", mac) == -EINVAL, "multicast MAC refused");
	ok(netcfg_parse_mac("00:00:00:00:00:00", mac) == -EINVAL, "zero MAC refused");
	ok(netcfg_parse_mac("02:42:ac:11:00", mac) == -EINVAL, "short MAC refused");
	ok(netcfg_parse_mac("02-42-ac-11-00-02", mac) == -EINVAL, "dashes refused");
	ok(netcfg_parse_mac("02:42:ac:11:00:0g", mac) == -EINVAL, "non-hex refused");
	netcfg_random_mac(mac);
	ok(strlen(mac) == 17 && !strncmp(mac, "02:", 3) && netcfg_parse_mac(mac, cidr) == 0,
	   "random MAC is local unicast: %s", mac);

	ok(netcfg_parse_cidr("192.168.7.2", cidr, sizeof(cidr)) == 0 && !strcmp(cidr, "192.168.7.2/24"), "--ip /24 default");
	ok(netcfg_parse_cidr("10.1.2.3/16", cidr, sizeof(cidr)) == 0 && !strcmp(cidr, "10.1.2.3/16"), "--ip with prefix");
	ok(netcfg_parse_cidr("10.1.2.3/33", cidr, sizeof(cidr)) == -EINVAL, "prefix 33 refused");
	ok(netcfg_parse_cidr("10.1.2/8", cidr, sizeof(cidr)) == -EINVAL, "short address refused");
	ok(netcfg_parse_cidr("10.1.2.3/", cidr, sizeof(cidr)) == -EINVAL, "empty prefix refused");

	ok(netcfg_host_entry_valid("db:10.0.0.5") && netcfg_host_entry_valid("host.docker.internal:host-gateway"),
	   "--add-host NAME:IP and host-gateway");
	ok(!netcfg_host_entry_valid("db") && !netcfg_host_entry_valid("db:") &&
	   !netcfg_host_entry_valid("d b:1.2.3.4") && !netcfg_host_entry_valid("db:1.2.3.4\nevil") &&
	   !netcfg_host_entry_valid(":1.2.3.4"), "--add-host malformed entries refused");
	ok(netcfg_domain_valid("example.com") && !netcfg_domain_valid("a b") && !netcfg_domain_valid("x\nsearch y"),
	   "--dns-search domains");
}

/* HostConfig.VmmMoreNetworks: a user network's NAME[=IP] after a first one, kept through the round trip. */
static void test_more_networks(void)
{
	static const char *const bad[][2] = {
		{ "{\"NetworkMode\":\"bridge\",\"VmmMoreNetworks\":[\"b\"]}", "without a first network" },
		{ "{\"NetworkMode\":\"a\",\"VmmMoreNetworks\":[\"host\"]}", "host" },
		{ "{\"NetworkMode\":\"a\",\"VmmMoreNetworks\":[\"none\"]}", "none" },
		{ "{\"NetworkMode\":\"a\",\"VmmMoreNetworks\":[\"b=1.2.3\"]}", "a bad address" },
		{ "{\"NetworkMode\":\"a\",\"VmmMoreNetworks\":[\"b c\"]}", "a bad name" },
		{ "{\"NetworkMode\":\"a\",\"VmmMoreNetworks\":[5]}", "not a string" },
		{ "{\"NetworkMode\":\"a\",\"VmmMoreNetworks\":[\"n2345678901234567890123456789012345678901234567890123456789012345\"]}",
		  "a name of 65 characters (not cut to 64)" },
		{ "{\"NetworkMode\":\"a\",\"VmmMoreNetworks\":[\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}",
		  "eight more" },
	};
	char *more[] = { "b", "c=10.1.0.5", NULL };
	struct net_config c = { .mode = NET_MODE_SLIRP, .network = "a", .more = more }, back;
	json_object *host = json_object_new_object();
	struct error e = { 0 };

	container_net_to_json(&c, host);
	ok(container_net_parse(host, &back, &e) == 0 && !strcmp(back.network, "a") && back.more &&
	   !strcmp(back.more[0], "b") && !strcmp(back.more[1], "c=10.1.0.5") && !back.more[2],
	   "more networks: the round trip keeps them (%s)", e.msg);
	netcfg_free(&back);
	json_object_put(host);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		host = json_tokener_parse(bad[i][0]);
		err_clear(&e);
		ok(container_net_parse(host, &back, &e) == -EINVAL && strstr(e.msg, "VmmMoreNetworks"),
		   "VmmMoreNetworks %s: refused, named (%s)", bad[i][1], e.msg);
		netcfg_free(&back);
		json_object_put(host);
	}
}

static void test_json(void)
{
	struct net_config c = { 0 }, back;
	json_object *host = json_object_new_object();
	struct error e = { 0 };
	char *dns[] = { "1.1.1.1", NULL }, *hosts[] = { "db:10.0.0.5", NULL }, *search[] = { "corp", NULL };

	c.mode = NET_MODE_TAP;
	strcpy(c.tap, "tap7");
	strcpy(c.mac, "02:11:22:33:44:55");
	c.ip = "192.168.50.2/24";
	c.gateway = "192.168.50.1";
	c.dns = dns;
	c.dns_search = search;
	c.extra_hosts = hosts;
	c.ports = ports;
	c.nports = nports;
	container_net_to_json(&c, host);
	ok(container_net_parse(host, &back, &e) == 0, "config round trip parses: %s", e.msg);
	ok(back.mode == NET_MODE_TAP && !strcmp(back.tap, "tap7") && !strcmp(back.mac, c.mac) &&
	   !strcmp(back.ip, c.ip) && !strcmp(back.gateway, c.gateway) && !strcmp(back.dns[0], "1.1.1.1") &&
	   !strcmp(back.dns_search[0], "corp") && !strcmp(back.extra_hosts[0], "db:10.0.0.5") &&
	   back.nports == nports && !memcmp(back.ports, ports, nports * sizeof(*ports)),
	   "config round trip keeps everything");
	netcfg_free(&back);
	json_object_put(host);

	host = json_object_new_object();
	ok(container_net_parse(host, &back, &e) == 0 && back.mode == NET_MODE_SLIRP && !back.nports,
	   "an old config without network fields: slirp, no ports");
	netcfg_free(&back);
	json_object_object_add(host, "Dns", json_tokener_parse("[\"1.1.1.1\\nnameserver 6.6.6.6\"]"));
	ok(container_net_parse(host, &back, &e) == -EINVAL && strstr(e.msg, "Dns[0]"),
	   "a forged nameserver line in config.json refused: %s", e.msg);
	netcfg_free(&back);
	json_object_put(host);
	test_more_networks();
}

static void test_host_ports(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct port_binding b = { .host_ip = "127.0.0.1" };
	char comm[64];
	pid_t pid = 0;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), u;

	ok(netport_pick(&b) == 0 && b.host_port > 0, "a free port picked: %u", b.host_port);
	ok(netport_probe(&b) == 0, "and it is free");
	bind(s, (struct sockaddr *)&sa, sizeof(sa));
	listen(s, 1);
	getsockname(s, (struct sockaddr *)&sa, &len);
	b.host_port = ntohs(sa.sin_port);
	ok(netport_probe(&b) == -EADDRINUSE, "a listening TCP port is in use");
	b.host_ip[0] = '\0';
	ok(netport_probe(&b) == -EADDRINUSE, "also for 0.0.0.0");
	ok(netport_holder(false, b.host_port, &pid, comm, sizeof(comm)) == 0 && pid == getpid() &&
	   !strncmp(comm, "test_net_port", 13), "holder found: pid %d (%s)", (int)pid, comm);
	close(s);
	ok(netport_probe(&b) == 0, "free again once closed");

	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sa.sin_port = 0;
	bind(u, (struct sockaddr *)&sa, sizeof(sa));
	len = sizeof(sa);
	getsockname(u, (struct sockaddr *)&sa, &len);
	b.udp = true;
	b.host_port = ntohs(sa.sin_port);
	strcpy(b.host_ip, "127.0.0.1");
	ok(netport_probe(&b) == -EADDRINUSE, "a bound UDP port is in use");
	ok(netport_holder(true, b.host_port, &pid, comm, sizeof(comm)) == 0 && pid == getpid(), "UDP holder found");
	ok(netport_parent(getpid()) == getppid(), "a holder's parent: ours is our parent");
	close(u);
	strcpy(b.host_ip, "192.0.2.77");
	ok(netport_probe(&b) == -EADDRNOTAVAIL, "an address this host does not have");
}

/* vmm run's flags together: -P from the image's ExposedPorts, conflicting combinations. */
static void test_run_flags(void)
{
	struct image_port exposed[] = { { 80, "tcp" }, { 53, "udp" }, { 9, "sctp" } };
	struct image_config ic = { .ports = exposed, .n_ports = 3 };
	struct run_net_opts o = { 0 };
	struct net_config out = { 0 };
	struct error e = { 0 };

	ok(run_net_option(&o, RUN_NET_OPT_PUBLISH, "8080:80", &e) == 0 && run_net_option(&o, 'P', NULL, &e) == 0,
	   "-p 8080:80 -P accepted");
	ok(engine_net_config(&o.net, o.publish_all, &ic, &out, &e) == 0 && out.nports == 2 && out.ports[0].host_port == 8080 &&
	   out.ports[0].container_port == 80 && out.ports[1].container_port == 53 && out.ports[1].udp &&
	   out.ports[1].host_port == 0, "-P adds 53/udp on a free port, keeps the explicit 80, skips sctp");
	ok(!strncmp(out.mac, "02:", 3), "a MAC is chosen for the container");
	netcfg_free(&out);
	run_net_opts_free(&o);

	memset(&o, 0, sizeof(o));
	run_net_option(&o, RUN_NET_OPT_NETWORK, "none", &e);
	run_net_option(&o, RUN_NET_OPT_PUBLISH, "80", &e);
	ok(engine_net_config(&o.net, o.publish_all, NULL, &out, &e) == -EINVAL, "-p with --network none: refused (vmm exits 125)");
	run_net_opts_free(&o);
	memset(&o, 0, sizeof(o));
	run_net_option(&o, RUN_NET_OPT_IP, "10.0.0.2", &e);
	ok(engine_net_config(&o.net, o.publish_all, NULL, &out, &e) == -EINVAL, "--ip with slirp refused");
	run_net_opts_free(&o);
	memset(&o, 0, sizeof(o));
	run_net_option(&o, RUN_NET_OPT_NETWORK, "tap:tap0", &e);
	run_net_option(&o, RUN_NET_OPT_GATEWAY, "10.0.0.1", &e);
	ok(engine_net_config(&o.net, o.publish_all, NULL, &out, &e) == -EINVAL, "--gateway without --ip refused");
	run_net_option(&o, RUN_NET_OPT_IP, "10.0.0.2/8", &e);
	ok(engine_net_config(&o.net, o.publish_all, NULL, &out, &e) == 0 && !strcmp(out.ip, "10.0.0.2/8") && !strcmp(out.gateway, "10.0.0.1"),
	   "tap with --ip and --gateway");
	netcfg_free(&out);
	run_net_opts_free(&o);
	memset(&o, 0, sizeof(o));
	ok(run_net_option(&o, RUN_NET_OPT_DNS, "8.8.8.8", &e) == 0 && run_net_option(&o, RUN_NET_OPT_DNS, "dns.google", &e) == -EINVAL,
	   "--dns takes addresses only");
	ok(run_net_option(&o, RUN_NET_OPT_MAC, "01:02:03:04:05:06", &e) == -EINVAL, "--mac-address multicast refused");
	ok(run_net_option(&o, 'w', "/x", &e) == 1, "other options are not ours");
	run_net_opts_free(&o);
}

int main(void)
{
	test_parse();
	test_values();
	test_json();
	test_host_ports();
	test_run_flags();
	free(ports);
	return tap_done();
}
