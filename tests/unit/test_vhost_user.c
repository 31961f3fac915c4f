/*
 * The vhost-user frontend against the real virtiofsd, with no VM: this test
 * plays the guest driver. Guest RAM is a memfd, the request ring lives in it,
 * FUSE requests go in as descriptor chains, and the daemon's answers come
 * back through the used ring and the call eventfd, as they would for a guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devices/vhost-user.h"
#include "devices/virtiofsd.h"
#include "tests/unit/tap.h"

#define RAM_SIZE	(2u << 20)
#define QSIZE		16
#define REQ_QUEUE	1	/* virtio-fs: queue 0 is hiprio, 1.. are request queues */
#define DESC_GPA	0x1000
#define AVAIL_GPA	0x2000
#define USED_GPA	0x3000
#define BUF_GPA		0x10000
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2

struct vdesc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct vavail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct vused_elem { uint32_t id, len; };
struct vused { uint16_t flags, idx; struct vused_elem ring[QSIZE]; uint16_t avail_event; };

/* What the test's "guest" holds: RAM, one ring, its eventfds. */
struct guest {
	int memfd;
	uint8_t *ram;
	struct vdesc *desc;
	struct vavail *avail;
	struct vused *used;
	uint16_t last_used;
	int kick, call;
	uint64_t unique;
};

/* virtiofsd on dir through the product's launcher (ro: a read-only bind mount in its namespace). */
static struct virtiofsd *start_daemon(const char *bin, const char *sock, const char *dir, bool read_only)
{
	struct virtiofsd_config cfg = { .binary = bin, .shared_dir = dir, .socket_path = sock,
					.read_only = read_only };
	struct virtiofsd *d = NULL;
	struct error e = { 0 };

	ok(virtiofsd_start(&cfg, &d, &e) == 0, "virtiofsd started on %s%s (%s)", dir,
	   read_only ? " read-only" : "", d ? "ok" : e.msg);
	return d;
}

static int guest_init(struct guest *g)
{
	memset(g, 0, sizeof(*g));
	g->memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (g->memfd < 0 || ftruncate(g->memfd, RAM_SIZE) < 0)
		return -1;
	g->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	if (g->ram == MAP_FAILED)
		return -1;
	g->desc = (struct vdesc *)(g->ram + DESC_GPA);
	g->avail = (struct vavail *)(g->ram + AVAIL_GPA);
	g->used = (struct vused *)(g->ram + USED_GPA);
	g->kick = eventfd(0, EFD_CLOEXEC);
	g->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return g->kick < 0 || g->call < 0 ? -1 : 0;
}

/*
 * One FUSE request: in (header + args) readable by the device, out
 * (out header + out args) writable. Returns the used length, -1 on timeout.
 */
static int fuse_call(struct guest *g, uint32_t opcode, uint64_t nodeid, const void *arg,
		     size_t arglen, void *reply, size_t replylen)
{
	struct fuse_in_header *ih = (void *)(g->ram + BUF_GPA);
	struct pollfd p = { .fd = g->call, .events = POLLIN };
	uint16_t slot = g->avail->idx % QSIZE;
	uint64_t v;

	*ih = (struct fuse_in_header){
		.len = sizeof(*ih) + arglen, .opcode = opcode, .unique = ++g->unique, .nodeid = nodeid,
	};
	memcpy(ih + 1, arg, arglen);
	memset(g->ram + BUF_GPA + 0x8000, 0, replylen);
	g->desc[0] = (struct vdesc){ BUF_GPA, sizeof(*ih) + arglen, VIRTQ_DESC_F_NEXT, 1 };
	g->desc[1] = (struct vdesc){ BUF_GPA + 0x8000, replylen, VIRTQ_DESC_F_WRITE, 0 };
	g->avail->ring[slot] = 0;
	__atomic_store_n(&g->avail->idx, g->avail->idx + 1, __ATOMIC_RELEASE);
	v = 1;
	if (write(g->kick, &v, sizeof(v)) != sizeof(v))
		return -1;
	while (__atomic_load_n(&g->used->idx, __ATOMIC_ACQUIRE) == g->last_used) {
		if (poll(&p, 1, 10000) <= 0)
			return -1;
		if (read(g->call, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -1;
	}
	g->last_used++;
	memcpy(reply, g->ram + BUF_GPA + 0x8000, replylen);
	return (int)g->used->ring[(g->last_used - 1) % QSIZE].len;
}

/* Connect, negotiate, share RAM, start the request ring. */
static struct vhost_user *frontend(struct guest *g, const char *sock, struct error *e)
{
	struct vhost_user *vu;
	uint64_t features;
	struct vhost_user_region r = { .gpa = 0, .size = RAM_SIZE, .hva = g->ram, .fd = g->memfd };
	struct vhost_user_vring vr = {
		.index = REQ_QUEUE, .num = QSIZE, .desc = g->desc, .avail = g->avail, .used = g->used,
		.kick_fd = g->kick, .call_fd = g->call,
	};

	if (vhost_user_connect(sock, "virtio-fs-test", &vu, &features, e))
		return NULL;
	if (!(features & (1ULL << 32)) || vhost_user_set_features(vu, 1ULL << 32, e) ||
	    vhost_user_set_mem_table(vu, &r, 1, e) || vhost_user_start_vring(vu, &vr, e)) {
		if (!(features & (1ULL << 32)))
			err_set(e, -ENOTSUP, "daemon does not offer VIRTIO_F_VERSION_1");
		vhost_user_close(vu);
		return NULL;
	}
	return vu;
}

struct lookup_reply { struct fuse_out_header h; struct fuse_entry_out entry; };

static int fuse_init(struct guest *g)
{
	struct fuse_init_in in = { .major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION,
				   .max_readahead = 65536 };
	struct { struct fuse_out_header h; struct fuse_init_out o; } out;
	int n = fuse_call(g, FUSE_INIT, 0, &in, sizeof(in), &out, sizeof(out));

	return n > 0 && out.h.error == 0 && out.o.major == FUSE_KERNEL_VERSION ? 0 : -1;
}

static void test_read_share(const char *bin, const char *dir, const char *sock)
{
	struct guest g;
	struct error e = { 0 };
	struct vhost_user *vu;
	struct lookup_reply lk;
	struct fuse_open_in oin = { .flags = O_RDONLY };
	struct { struct fuse_out_header h; struct fuse_open_out o; } op;
	struct fuse_read_in rin = { .size = 64 };
	struct { struct fuse_out_header h; char data[64]; } rd;
	uint16_t base = 0;
	struct stat st;
	struct virtiofsd *d = start_daemon(bin, sock, dir, false);
	int n;

	ok(guest_init(&g) == 0, "guest RAM in a memfd, eventfds for kick and call");
	vu = frontend(&g, sock, &e);
	ok(vu != NULL, "connect, features, memory table and request ring accepted (%s)",
	   vu ? "ok" : e.msg);
	if (!vu)
		goto out;
	ok(fuse_init(&g) == 0, "FUSE_INIT answered through the ring");
	n = fuse_call(&g, FUSE_LOOKUP, FUSE_ROOT_ID, "hello.txt", 10, &lk, sizeof(lk));
	ok(n > 0 && lk.h.error == 0 && lk.entry.attr.size == 20 && S_ISREG(lk.entry.attr.mode),
	   "FUSE_LOOKUP finds the host file with its size (used len %d, error %d)", n, lk.h.error);
	n = fuse_call(&g, FUSE_OPEN, lk.entry.nodeid, &oin, sizeof(oin), &op, sizeof(op));
	ok(n > 0 && op.h.error == 0, "FUSE_OPEN (error %d)", op.h.error);
	rin.fh = op.o.fh;
	n = fuse_call(&g, FUSE_READ, lk.entry.nodeid, &rin, sizeof(rin), &rd, sizeof(rd));
	ok(n == (int)sizeof(rd.h) + 20 && rd.h.error == 0 && !memcmp(rd.data, "hello from the host\n", 20),
	   "FUSE_READ returns the host file's bytes (used len %d)", n);
	n = fuse_call(&g, FUSE_LOOKUP, FUSE_ROOT_ID, "..", 3, &lk, sizeof(lk));
	ok(n > 0 && (lk.h.error != 0 || (stat(dir, &st) == 0 && lk.entry.attr.ino == st.st_ino)),
	   "'..' of the share's root is the root itself, not the host's /tmp (error %d, inode %llu)",
	   lk.h.error, (unsigned long long)lk.entry.attr.ino);
	ok(vhost_user_stop_vring(vu, REQ_QUEUE, &base, &e) == 0 && base == g.avail->idx,
	   "GET_VRING_BASE: the daemon stopped after the %u requests made (%u)", g.avail->idx, base);
	vhost_user_close(vu);
out:
	virtiofsd_stop(d);
	ok(access(sock, F_OK) < 0, "stopped: the socket is gone");
}

static void test_read_only_share(const char *bin, const char *dir, const char *sock)
{
	struct guest g;
	struct error e = { 0 };
	struct vhost_user *vu;
	struct { struct fuse_create_in c; char name[8]; } cin = {
		.c = { .flags = O_WRONLY | O_CREAT, .mode = S_IFREG | 0644 }, .name = "new.txt",
	};
	struct { struct fuse_out_header h; struct fuse_entry_out en; struct fuse_open_out op; } cr;
	struct stat st;
	struct virtiofsd *d = start_daemon(bin, sock, dir, true);
	int n;

	if (guest_init(&g) || !(vu = frontend(&g, sock, &e))) {
		ok(0, "read-only share: frontend (%s)", e.msg);
		goto out;
	}
	ok(fuse_init(&g) == 0, "read-only share: FUSE_INIT");
	n = fuse_call(&g, FUSE_CREATE, FUSE_ROOT_ID, &cin, sizeof(cin), &cr, sizeof(cr));
	ok(n > 0 && cr.h.error == -EROFS, "read-only share: FUSE_CREATE refused by the host with EROFS (%d)",
	   cr.h.error);
	ok(stat("new.txt", &st) < 0 && errno == ENOENT, "read-only share: nothing created on the host");
	vhost_user_close(vu);
out:
	virtiofsd_stop(d);
	ok(access(sock, F_OK) < 0, "stopped: the socket is gone");
}

/* A FUSE request whose argument is a struct followed by one or two names. */
static int fuse_named(struct guest *g, uint32_t op, uint64_t node, const void *arg, size_t arglen,
		      const char *name, const char *name2, void *reply, size_t replylen)
{
	char buf[1024];
	size_t n = arglen;

	memcpy(buf, arg, arglen);
	n += snprintf(buf + n, sizeof(buf) - n, "%s", name) + 1;
	if (name2)
		n += snprintf(buf + n, sizeof(buf) - n, "%s", name2) + 1;
	return fuse_call(g, op, node, buf, n, reply, replylen);
}

/*
 * The guest kernel is hostile: it sends the daemon requests no honest FUSE
 * driver would, to reach host files outside the share. Each is refused or
 * stays inside, and the daemon keeps serving.
 */
static void test_hostile_guest(const char *bin, const char *dir, const char *sock)
{
	struct guest g;
	struct error e = { 0 };
	struct vhost_user *vu;
	struct lookup_reply lk;
	struct { struct fuse_out_header h; struct fuse_attr_out a; } ga;
	struct { struct fuse_out_header h; struct fuse_open_out o; } op;
	struct { struct fuse_out_header h; char data[64]; } rd;
	struct fuse_open_in oin = { .flags = O_RDONLY };
	struct fuse_read_in rin = { .size = 64 };
	struct fuse_mknod_in mk = { .mode = S_IFBLK | 0666, .rdev = makedev(8, 0) };
	struct fuse_link_in ln = { .oldnodeid = 0x41414141 };
	struct fuse_getattr_in gin = { 0 };
	struct fuse_mkdir_in mkd = { .mode = 0755 };
	struct fuse_rename_in rn = { .newdir = FUSE_ROOT_ID };
	struct fuse_create_in cin = { .flags = O_WRONLY | O_CREAT, .mode = S_IFREG | 0644 };
	struct { struct fuse_out_header h; struct fuse_entry_out en; struct fuse_open_out op; } cr;
	struct lookup_reply dl;
	char outside[4200], outdir[4200], planted[4300], rel[4300], got[64] = "";
	struct stat st;
	struct virtiofsd *d = start_daemon(bin, sock, dir, false);
	int n, fd;

	snprintf(outside, sizeof(outside), "%s.outside", dir);
	fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "host secret\n", 12) != 12) {
		ok(0, "hostile: a host file outside the share");
		goto out;
	}
	close(fd);
	snprintf(outdir, sizeof(outdir), "%s.outdir", dir);
	snprintf(planted, sizeof(planted), "%s/planted", outdir);
	mkdir(outdir, 0755);
	if (guest_init(&g) || !(vu = frontend(&g, sock, &e)) || fuse_init(&g)) {
		ok(0, "hostile: frontend (%s)", e.msg);
		goto out;
	}
	/* A symlink to the host file: the daemon never follows it for us. */
	n = fuse_named(&g, FUSE_SYMLINK, FUSE_ROOT_ID, NULL, 0, "esc", outside, &lk, sizeof(lk));
	ok(n > 0 && lk.h.error == 0, "hostile: a symlink to a host path is made (a link is only text) (%d)",
	   lk.h.error);
	n = fuse_call(&g, FUSE_OPEN, lk.entry.nodeid, &oin, sizeof(oin), &op, sizeof(op));
	if (n > 0 && op.h.error == 0) {
		rin.fh = op.o.fh;
		n = fuse_call(&g, FUSE_READ, lk.entry.nodeid, &rin, sizeof(rin), &rd, sizeof(rd));
		if (n > (int)sizeof(rd.h))
			memcpy(got, rd.data, n - sizeof(rd.h) < sizeof(got) - 1 ? n - sizeof(rd.h) : sizeof(got) - 1);
	}
	ok(!strstr(got, "host secret"), "hostile: FUSE_OPEN of the link's node does not open the host file "
	   "(open error %d)", op.h.error);
	/* Names with a slash or "..": one lookup must not walk out. */
	snprintf(rel, sizeof(rel), "../%s", strrchr(outside, '/') + 1);
	memset(&lk, 0, sizeof(lk));
	n = fuse_call(&g, FUSE_LOOKUP, FUSE_ROOT_ID, rel, strlen(rel) + 1, &lk, sizeof(lk));
	ok(n > 0 && lk.h.error != 0, "hostile: FUSE_LOOKUP of '%s' refused (%d)", rel, lk.h.error);
	n = fuse_call(&g, FUSE_LOOKUP, FUSE_ROOT_ID, outside, strlen(outside) + 1, &lk, sizeof(lk));
	ok(n > 0 && lk.h.error != 0, "hostile: FUSE_LOOKUP of an absolute host path refused (%d)", lk.h.error);
	/* Device nodes: the daemon runs without CAP_MKNOD. */
	n = fuse_named(&g, FUSE_MKNOD, FUSE_ROOT_ID, &mk, sizeof(mk), "sda", NULL, &lk, sizeof(lk));
	ok(n > 0 && lk.h.error == -EPERM, "hostile: FUSE_MKNOD of a block device refused with EPERM (%d)",
	   lk.h.error);
	ok(lstat("sda", &st) < 0 && errno == ENOENT, "hostile: no device node on the host");
	/* Node IDs the daemon never gave out. */
	n = fuse_call(&g, FUSE_GETATTR, 0x41414141, &gin, sizeof(gin), &ga, sizeof(ga));
	ok(n > 0 && ga.h.error != 0, "hostile: FUSE_GETATTR of a forged node ID refused (%d)", ga.h.error);
	n = fuse_named(&g, FUSE_LINK, FUSE_ROOT_ID, &ln, sizeof(ln), "hl", NULL, &lk, sizeof(lk));
	ok(n > 0 && lk.h.error != 0 && lstat("hl", &st) < 0, "hostile: FUSE_LINK of a forged node ID refused (%d)",
	   lk.h.error);
	n = fuse_call(&g, 9999, FUSE_ROOT_ID, NULL, 0, &ga, sizeof(ga));
	ok(n > 0 && ga.h.error == -ENOSYS, "hostile: an unknown opcode gets ENOSYS (%d)", ga.h.error);
	/*
	 * A rename race: the guest holds a folder's node, moves the folder away and
	 * puts a symlink to a host folder in its place. The node stays the folder.
	 */
	n = fuse_named(&g, FUSE_MKDIR, FUSE_ROOT_ID, &mkd, sizeof(mkd), "d", NULL, &dl, sizeof(dl));
	ok(n > 0 && dl.h.error == 0, "hostile: FUSE_MKDIR d (%d)", dl.h.error);
	n = fuse_named(&g, FUSE_RENAME, FUSE_ROOT_ID, &rn, sizeof(rn), "d", "d2", &ga, sizeof(ga));
	ok(n > 0 && ga.h.error == 0, "hostile: FUSE_RENAME d -> d2 (%d)", ga.h.error);
	n = fuse_named(&g, FUSE_SYMLINK, FUSE_ROOT_ID, NULL, 0, "d", outdir, &lk, sizeof(lk));
	ok(n > 0 && lk.h.error == 0, "hostile: d is now a symlink to a host folder outside (%d)", lk.h.error);
	n = fuse_named(&g, FUSE_CREATE, dl.entry.nodeid, &cin, sizeof(cin), "planted", NULL, &cr, sizeof(cr));
	ok(n > 0 && cr.h.error == 0 && lstat("d2/planted", &st) == 0 && stat(planted, &st) < 0,
	   "hostile: a create in the old node lands in d2, not through the new symlink (%d)", cr.h.error);
	n = fuse_named(&g, FUSE_CREATE, lk.entry.nodeid, &cin, sizeof(cin), "planted", NULL, &cr, sizeof(cr));
	ok(n > 0 && cr.h.error != 0 && stat(planted, &st) < 0,
	   "hostile: a create with the symlink's node as the folder is refused (%d)", cr.h.error);
	/*
	 * A FIFO in the share (the host, or another container, made it): an
	 * open for reading with no writer must not hang the daemon for good.
	 */
	if (mkfifo("fifo", 0666) == 0) {
		memset(&lk, 0, sizeof(lk));
		n = fuse_call(&g, FUSE_LOOKUP, FUSE_ROOT_ID, "fifo", 5, &lk, sizeof(lk));
		ok(n > 0 && lk.h.error == 0 && S_ISFIFO(lk.entry.attr.mode), "hostile: FUSE_LOOKUP of a FIFO (%d)",
		   lk.h.error);
		n = fuse_call(&g, FUSE_OPEN, lk.entry.nodeid, &oin, sizeof(oin), &op, sizeof(op));
		ok(n > 0, "hostile: FUSE_OPEN of a FIFO with no writer is answered (%d, error %d)", n, op.h.error);
	}
	/* Still serving, and the host file is as it was. */
	n = fuse_call(&g, FUSE_LOOKUP, FUSE_ROOT_ID, "hello.txt", 10, &lk, sizeof(lk));
	ok(n > 0 && lk.h.error == 0, "hostile: the daemon still answers after all that (%d)", lk.h.error);
	fd = open(outside, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, got, sizeof(got));
	ok(n == 12 && !memcmp(got, "host secret\n", 12), "hostile: the host file is untouched");
	if (fd >= 0)
		close(fd);
	vhost_user_close(vu);
out:
	virtiofsd_stop(d);
	unlink(outside);
	unlink("esc");
	unlink("sda");
	unlink("fifo");
	unlink("d");
	unlink("d2/planted");
	rmdir("d2");
	unlink(planted);
	rmdir(outdir);
}

static void test_bad_socket(void)
{
	struct vhost_user *vu;
	struct error e = { 0 };
	uint64_t f;

	ok(vhost_user_connect("/nonexistent/vfs.sock", "virtio-fs0", &vu, &f, &e) == -ENOENT &&
	   strstr(e.msg, "virtio-fs0: connect to the vhost-user daemon at /nonexistent/vfs.sock"),
	   "a missing socket is one clear error: %s", e.msg);
}

/* kill -9 of vmm takes its daemons along: nothing is left behind. */
static void test_daemon_dies_with_vmm(const char *bin, const char *dir, const char *sock)
{
	int pfd[2];
	pid_t vmm, daemon = 0;
	bool gone = false;

	if (pipe(pfd) < 0)
		return;
	vmm = fork();
	if (vmm == 0) {
		struct virtiofsd_config cfg = { .binary = bin, .shared_dir = dir, .socket_path = sock };
		struct virtiofsd *d;
		pid_t p = virtiofsd_start(&cfg, &d, NULL) ? 0 : virtiofsd_pid(d);

		if (write(pfd[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	ok(read(pfd[0], &daemon, sizeof(daemon)) == sizeof(daemon) && daemon > 0 && kill(daemon, 0) == 0,
	   "a 'vmm' process started virtiofsd (pid %d)", (int)daemon);
	close(pfd[0]);
	kill(vmm, SIGKILL);
	waitpid(vmm, NULL, 0);
	/* The daemon is the killed process's child: it went to init, which reaps it. */
	for (int i = 0; i < 1000 && !gone; i++) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)daemon);
		f = fopen(path, "r");
		gone = !f || (fscanf(f, "%*d (%*[^)]) %c", &state) == 1 && state == 'Z');
		if (f)
			fclose(f);
		if (!gone)
			usleep(10000);
	}
	ok(daemon > 0 && gone, "kill -9 of vmm: its virtiofsd is gone too");
	unlink(sock);
}

static void test_find(void)
{
	char path[256];
	struct error e = { 0 };

	ok(virtiofsd_find("/nonexistent/virtiofsd", path, sizeof(path), &e) == -ENOENT &&
	   strstr(e.msg, "virtiofsd /nonexistent/virtiofsd: No such file or directory"),
	   "--virtiofsd with a missing file: %s", e.msg);
}

int main(void)
{
	char dir[] = "/tmp/vmm-vhost-XXXXXX", sock[4200], file[4200], bin[256];
	int fd;

	test_bad_socket();
	test_find();
	if (virtiofsd_find(NULL, bin, sizeof(bin), NULL) || geteuid() != 0) {
		skip(geteuid() ? "virtiofsd's namespace sandbox needs root" :
		     "virtiofsd not installed (qemu-system-common)", "vhost-user against virtiofsd");
		return tap_done();
	}
	if (!mkdtemp(dir) || chdir(dir) < 0)
		return 1;
	snprintf(file, sizeof(file), "%s/hello.txt", dir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, "hello from the host\n", 20) != 20)
		return 1;
	close(fd);
	snprintf(sock, sizeof(sock), "%s.sock", dir);
	test_read_share(bin, dir, sock);
	test_read_only_share(bin, dir, sock);
	test_hostile_guest(bin, dir, sock);
	test_daemon_dies_with_vmm(bin, dir, sock);
	unlink(file);
	rmdir(dir);
	return tap_done();
}
