/* docker's -v, --mount and --tmpfs: what each form means, and one error per kind of mistake. */
#include <errno.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/engine/mount-spec.h"

typedef int (*parse_fn)(const char *, struct mount_spec *, struct error *);

static void bad(parse_fn fn, const char *arg, const char *want)
{
	struct mount_spec m;
	struct error e = { 0 };
	int ret = fn(arg, &m, &e);

	ok(ret == -EINVAL && strstr(e.msg, want), "'%s' refused: '%s' (got: %s)", arg, want,
	   ret ? e.msg : "accepted");
	if (!ret)
		mount_spec_free(&m);
}

static void test_volume_flag(void)
{
	struct mount_spec m;
	struct error e = { 0 };

	ok(mount_parse_volume("/srv/data:/data", &m, &e) == 0 && m.type == MOUNT_BIND &&
	   !strcmp(m.source, "/srv/data") && !strcmp(m.target, "/data") && !m.read_only &&
	   m.create_source, "-v /host:/ctr is a bind mount whose missing folder is created");
	mount_spec_free(&m);
	ok(mount_parse_volume("/srv/data:/a//b/./c/:ro,Z", &m, &e) == 0 && m.read_only &&
	   !strcmp(m.target, "/a/b/c"), "-v ...:ro,Z: read-only, :Z accepted, target cleaned");
	mount_spec_free(&m);
	ok(mount_parse_volume("cache-1.x:/cache:nocopy", &m, &e) == 0 && m.type == MOUNT_VOLUME &&
	   !strcmp(m.source, "cache-1.x") && m.nocopy, "-v NAME:/ctr is a named volume");
	mount_spec_free(&m);
	ok(mount_parse_volume("/var/lib/db", &m, &e) == 0 && m.type == MOUNT_VOLUME && !m.source &&
	   !strcmp(m.target, "/var/lib/db"), "-v /ctr is an anonymous volume");
	mount_spec_free(&m);

	bad(mount_parse_volume, "./src:/src", "\"./src\" includes invalid characters for a local volume "
	    "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
	    "directory, use absolute path");
	bad(mount_parse_volume, "/a:/b:rx", "invalid mode: rx");
	bad(mount_parse_volume, "/a:b", "mount path 'b' must be absolute");
	bad(mount_parse_volume, "/a:/", "the destination can't be '/'");
	bad(mount_parse_volume, "/a:/b/../../etc", "must not contain '..'");
	bad(mount_parse_volume, "/a:/b:ro:z", "invalid volume specification: '/a:/b:ro:z'");
	bad(mount_parse_volume, "/a::/b", "invalid volume specification");
	bad(mount_parse_volume, "", "invalid volume specification");
	bad(mount_parse_volume, "/a:", "invalid volume specification");
	bad(mount_parse_volume, "relative", "must be absolute");
}

static void test_mount_flag(void)
{
	struct mount_spec m;
	struct error e = { 0 };

	ok(mount_parse_mount("type=bind,source=/srv,target=/srv,readonly", &m, &e) == 0 &&
	   m.type == MOUNT_BIND && m.read_only && !m.create_source && !strcmp(m.source, "/srv"),
	   "--mount type=bind,...,readonly (a missing source is not created)");
	mount_spec_free(&m);
	ok(mount_parse_mount("src=vol1,dst=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,ro=false",
			     &m, &e) == 0 && m.type == MOUNT_VOLUME && !m.read_only &&
	   !strcmp(m.volume_opts[0], "type=tmpfs") && !strcmp(m.volume_opts[1], "device=tmpfs") &&
	   !m.volume_opts[2], "--mount defaults to a volume, with volume-opt pairs");
	mount_spec_free(&m);
	ok(mount_parse_mount("type=tmpfs,destination=/run,tmpfs-size=64m,tmpfs-mode=1770", &m, &e) == 0 &&
	   m.type == MOUNT_TMPFS && m.tmpfs_size == 64ULL << 20 && m.tmpfs_mode == 01770,
	   "--mount type=tmpfs with size and mode");
	mount_spec_free(&m);

	bad(mount_parse_mount, "type=nfs,target=/x", "invalid mount type 'nfs'");
	bad(mount_parse_mount, "type=bind,source=/a", "target is required");
	bad(mount_parse_mount, "type=bind,target=/a", "field Source must not be empty");
	bad(mount_parse_mount, "type=bind,source=rel,target=/a", "the source path must be absolute");
	bad(mount_parse_mount, "type=volume,source=/abs,target=/a", "'/abs' is not a volume name");
	bad(mount_parse_mount, "type=tmpfs,source=x,target=/a", "source must not be given");
	bad(mount_parse_mount, "target=/a,color=red", "unexpected key 'color'");
	bad(mount_parse_mount, "target=/a,readonly=maybe", "invalid value for readonly: maybe");
	bad(mount_parse_mount, "type=tmpfs,target=/a,tmpfs-size=lots", "invalid tmpfs-size 'lots'");
	bad(mount_parse_mount, "type=tmpfs,target=/a,tmpfs-mode=999", "invalid tmpfs-mode '999'");
	bad(mount_parse_mount, "type=bind,source=/s,target=/a,tmpfs-size=1m", "need type=tmpfs");
	bad(mount_parse_mount, "type=bind,source=/s,target=/a,volume-opt=a=b", "need type=volume");
	bad(mount_parse_mount, "target=/a,volume-opt=novalue", "invalid volume-opt 'novalue'");
}

static void test_tmpfs_flag(void)
{
	struct mount_spec m;
	struct error e = { 0 };

	ok(mount_parse_tmpfs("/tmp", &m, &e) == 0 && m.type == MOUNT_TMPFS && !m.tmpfs_size &&
	   !strcmp(m.target, "/tmp"), "--tmpfs /tmp");
	mount_spec_free(&m);
	ok(mount_parse_tmpfs("/run:size=1g,mode=755,noexec,ro", &m, &e) == 0 &&
	   m.tmpfs_size == 1ULL << 30 && m.tmpfs_mode == 0755 && m.read_only,
	   "--tmpfs /run:size=1g,mode=755,noexec,ro");
	mount_spec_free(&m);
	bad(mount_parse_tmpfs, "/run:uid=5", "invalid tmpfs option 'uid=5'");
	bad(mount_parse_tmpfs, "run", "must be absolute");
	bad(mount_parse_tmpfs, "/run:size=", "invalid tmpfs-size ''");
}

static void test_volume_names(void)
{
	ok(mount_volume_name_valid("a1") && mount_volume_name_valid("db_data.v-2") &&
	   !mount_volume_name_valid("a") && !mount_volume_name_valid("_x") &&
	   !mount_volume_name_valid("a/b") && !mount_volume_name_valid("..") &&
	   !mount_volume_name_valid(""), "volume names as docker's");
}

int main(void)
{
	test_volume_flag();
	test_mount_flag();
	test_tmpfs_flag();
	test_volume_names();
	return tap_done();
}
