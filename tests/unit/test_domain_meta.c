/*
 * vmm's container metadata read back from domain XML (vmm/domain/meta.c):
 * what a container's dump carries, the flags it stands for, and one refusal
 * per kind of malformed element.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/domain/domain.h"
#include "vmm/domain/meta.h"

#define ID "0189bf071277ba0b1845166bc5794406fe56d8fb76dbd390cd1f040ea58c35bc"
#define NS "xmlns:vmm='https://vmm.dev/xmlns/container/1'"
/* The required part; BODY goes after it. */
#define BASE "<vmm:id>" ID "</vmm:id><vmm:name>web</vmm:name><vmm:imageId>sha256:ab</vmm:imageId>" \
	     "<vmm:cmd><vmm:arg>httpd</vmm:arg><vmm:arg> -f </vmm:arg></vmm:cmd>"

/* Read the metadata MD (the content of <metadata>) of a parsed domain. */
static int read_md(const char *md, struct domain_container *c, struct error *e)
{
	struct domain_def d;
	char *x = NULL;
	int ret;

	if (asprintf(&x, "<domain type='kvm'><name>t1</name><memory unit='MiB'>128</memory>"
		     "<os><type arch='x86_64'>hvm</type><kernel>/k/vmlinux</kernel></os>"
		     "<metadata>%s</metadata></domain>", md) < 0)
		abort();
	ret = domain_parse(x, strlen(x), &d, e);
	free(x);
	if (ret)
		return ret;
	ret = domain_container_read(&d, c, e);
	domain_free(&d);
	return ret;
}

static void test_full(void)
{
	struct domain_container c;
	struct error e = { 0 };
	int ret = read_md("<vmm:container " NS ">" BASE "<vmm:image>busybox</vmm:image>"
			  "<vmm:env><vmm:var>A=1</vmm:var><vmm:var>B=x y</vmm:var></vmm:env>"
			  "<vmm:workdir>/srv</vmm:workdir><vmm:user>1000:1000</vmm:user><vmm:hostname>h</vmm:hostname>"
			  "<vmm:port proto='tcp' hostIp='127.0.0.1' hostPort='8080' containerPort='80'/>"
			  "<vmm:port proto='udp' containerPort='53'/>"
			  "<vmm:mount type='bind' source='/srv/data' target='/data' readonly='yes'/>"
			  "<vmm:mount type='volume' name='vol1' source='/root/volumes/vol1/_data' target='/v'/>"
			  "<vmm:mount type='tmpfs' target='/run'/></vmm:container>", &c, &e);

	ok(ret == 0, "a container's metadata reads (%s)", ret ? e.msg : "ok");
	if (ret)
		return;
	ok(!strcmp(c.id, ID) && !strcmp(c.name, "web") && !strcmp(c.image, "busybox") &&
	   !strcmp(c.image_id, "sha256:ab"), "id, name, image and its ID");
	ok(c.argv && !strcmp(c.argv[0], "httpd") && !strcmp(c.argv[1], " -f ") && !c.argv[2],
	   "the command line, blanks in an argument kept");
	ok(c.env && !strcmp(c.env[1], "B=x y") && !c.env[2], "the environment");
	ok(!strcmp(c.workdir, "/srv") && !strcmp(c.user, "1000:1000") && !strcmp(c.hostname, "h"),
	   "workdir, user, hostname");
	ok(c.ports && !strcmp(c.ports[0], "127.0.0.1:8080:80/tcp") && !strcmp(c.ports[1], "53/udp"),
	   "ports as -p takes them (%s, %s)", c.ports ? c.ports[0] : "-", c.ports && c.ports[0] ? c.ports[1] : "-");
	ok(c.volumes && !strcmp(c.volumes[0], "/srv/data:/data:ro") && !strcmp(c.volumes[1], "vol1:/v"),
	   "binds by source, volumes by name, as -v takes them");
	ok(c.tmpfs && !strcmp(c.tmpfs[0], "/run") && !c.tmpfs[1], "a tmpfs by its target");
	domain_container_free(&c);
}

static void test_not_a_container(void)
{
	struct domain_container c;
	struct error e = { 0 };

	ok(read_md("<m:x xmlns:m='urn:other'>a</m:x>", &c, &e) == -ENOENT && !err_is_set(&e),
	   "another application's metadata: a plain VM");
	ok(read_md("<vmm:other " NS "/>", &c, &e) == -ENOENT, "vmm's namespace without <vmm:container>");
}

static const struct bad {
	const char *body, *want;
} bad[] = {
	{ "<vmm:name>web</vmm:name>", "/domain/metadata/vmm:container: needs <vmm:id>" },
	{ "<vmm:id>" ID "</vmm:id><vmm:name>x</vmm:name>", "needs <vmm:name>, <vmm:imageId> and a <vmm:cmd>" },
	{ "<vmm:id>../../etc</vmm:id>", "the container's 64 hex digit ID" },
	{ BASE "<vmm:name>again</vmm:name>", "/domain/metadata/vmm:container/vmm:name[2]: given twice" },
	{ BASE "<vmm:cmd><vmm:arg>x</vmm:arg></vmm:cmd>", "vmm:cmd[2]: given twice" },
	{ BASE "<vmm:env><vmm:arg>A=1</vmm:arg></vmm:env>", "vmm:env/vmm:arg: unexpected element" },
	{ BASE "<vmm:env><vmm:var>HOME</vmm:var></vmm:env>", "<vmm:var>HOME</vmm:var>: not KEY=VALUE" },
	{ BASE "<vmm:env><vmm:var>=x</vmm:var></vmm:env>", "not KEY=VALUE" },
	{ BASE "<vmm:port proto='sctp' containerPort='80'/>", "vmm:port: a port needs proto (tcp, udp)" },
	{ BASE "<vmm:port proto='tcp'/>", "vmm:port: a port needs" },
	{ BASE "<vmm:port proto='tcp' containerPort='80' hostPort='80:81'/>", "vmm:port: a port needs" },
	{ BASE "<vmm:port proto='tcp' containerPort='123456'/>", "vmm:port: a port needs" },
	{ BASE "<vmm:mount type='device' source='/dev/sda' target='/d'/>", "vmm:mount: a mount needs type" },
	{ BASE "<vmm:mount type='bind' target='/d'/>", "a source or name" },
	{ BASE "<vmm:mount type='volume' source='/x' target='/d'/>", "a source or name" },
	{ BASE "<vmm:mount type='tmpfs'/>", "vmm:mount: a mount needs" },
	{ BASE "<vmm:secret>x</vmm:secret>", "vmm:secret: not an element of vmm's container metadata" },
	{ BASE "<other:id xmlns:other='urn:x'>1</other:id>", "not an element of vmm's container metadata" },
};

static void test_refusals(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct domain_container c;
		struct error e = { 0 };
		char *md = NULL;
		int ret;

		if (asprintf(&md, "<vmm:container " NS ">%s</vmm:container>", bad[i].body) < 0)
			abort();
		ret = read_md(md, &c, &e);
		free(md);
		ok(ret == -EINVAL && strstr(e.msg, bad[i].want), "refused with '%s' (got: %s)", bad[i].want,
		   ret ? e.msg : "accepted");
		if (!ret)
			domain_container_free(&c);
	}
}

static void test_many(void)
{
	struct domain_container c;
	struct error e = { 0 };
	size_t len = strlen(BASE) + 4097 * 32 + 200;
	char *md = malloc(len), *p = md;
	int ret;

	p += sprintf(p, "<vmm:container " NS ">" BASE "<vmm:env>");
	for (int i = 0; i < 4097; i++)
		p += sprintf(p, "<vmm:var>V%d=1</vmm:var>", i);
	sprintf(p, "</vmm:env></vmm:container>");
	ret = read_md(md, &c, &e);
	free(md);
	ok(ret == -EINVAL && strstr(e.msg, "more than 4096 entries"), "a list is bounded (%s)", e.msg);
	if (!ret)
		domain_container_free(&c);
}

int main(void)
{
	test_full();
	test_not_a_container();
	test_refusals();
	test_many();
	return tap_done();
}
