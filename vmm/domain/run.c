/*
 * A domain as a machine: disks, network (user-mode with its port forwards,
 * or a tap), vsock, rng and the serial console, then boot, wait, and follow
 * the lifecycle actions. A `pty` console is the terminal vmm runs in.
 *
 * Each boot is a VMM process of its own, forked from this one (the
 * supervisor, vmm/machine/supervise.h), which shuts itself in before the
 * guest runs (docs/sandbox.md) and tells us on a shared page how the guest
 * ended; a reboot is a new process, with the disks opened again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/confine.h"
#include "vmm/domain/run.h"
#include "vmm/engine/ctl.h"
#include "vmm/loop.h"
#include "vmm/machine/machine.h"
#include "vmm/machine/supervise.h"

#define DOMAIN_RESTARTS_MAX	100	/* a guest that reboots forever is stopped */
#define CTL_CLIENT_TIMEOUT_S	2	/* a client that sends nothing is dropped */

/* One boot, as the control socket sees it. */
struct boot {
	struct machine *m;
	int ctl_fd;
};

static void reply(int fd, json_object *msg)
{
	ctl_send(fd, msg, NULL, 0);
	json_object_put(msg);
}

/* One request per connection, read with a timeout: the socket is in our private folder. */
static void on_ctl(void *opaque, uint32_t events)
{
	struct boot *b = opaque;
	struct timeval tv = { .tv_sec = CTL_CLIENT_TIMEOUT_S };
	struct ctl_reader rd = { 0 };
	json_object *req = NULL, *op, *out;
	int fd = accept4(b->ctl_fd, NULL, NULL, SOCK_CLOEXEC), fds[CTL_MAX_FDS];
	unsigned nfds = 0;
	const char *what;

	(void)events;
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (ctl_recv(fd, &rd, &req, fds, &nfds) == 1) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		what = json_object_object_get_ex(req, "op", &op) ? json_object_get_string(op) : "";
		out = json_object_new_object();
		if (!strcmp(what, "destroy")) {
			vm_end(b->m->vm, VM_END_HOST, 0, "destroyed (vmm domain destroy)");
			json_object_object_add(out, "ok", json_object_new_boolean(true));
		} else {
			json_object_object_add(out, "error", json_object_new_string("unknown request"));
		}
		reply(fd, out);
		json_object_put(req);
	}
	ctl_reader_free(&rd);
	close(fd);
}

struct plan {
	struct machine_config mc;
	struct machine_disk_config disks[DOMAIN_MAX_DISKS];
	struct machine_vsock_config vsock;
	struct machine_net_config net;
	char vsock_path[108];
	struct machine_share_config shares[DOMAIN_MAX_FS];
	char share_socks[DOMAIN_MAX_FS][108];
	char virtiofsd[4096];
	/* what each boot's VMM keeps (VMM_CONFINE) */
	struct confine_vmm confine;
	const char *keep_dirs[2];
	char who[DOMAIN_NAME_MAX + 8];
};

/*
 * What a boot's VMM process tells its supervisor, on a page they share. The
 * supervisor reads it once the VMM is gone, as it would a guest's word: a
 * hijacked VMM may have written anything there.
 */
struct boot_result {
	int ret;			/* 0: it ran; else e says why it could not */
	int started;
	int status;
	enum vm_end_reason reason;
	struct error e;
};

/* One boot's VMM process, forked. */
struct boot_job {
	const struct domain_def *d;
	const struct domain_run_opts *o;
	unsigned runs;
	struct plan *p;
	struct boot_result *res;
};

/* Each socket's path under the runtime directory; 0 or -ENAMETOOLONG with e. */
static int socket_path(char *buf, size_t len, const struct domain_run_opts *o, const char *name,
		       const char *what, struct error *e)
{
	if ((size_t)snprintf(buf, len, "%s/domain-%s.%s", o->runtime, name, what) < len)
		return 0;
	return err_set(e, -ENAMETOOLONG, "runtime directory %s: too long for a socket path", o->runtime);
}

static int plan(const struct domain_def *d, const struct domain_run_opts *o, struct plan *p,
		struct error *e)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->mc = (struct machine_config){
		.name = d->name, .kernel = d->kernel, .initrd = d->initrd, .user_cmdline = d->cmdline,
		.mem_size = d->memory, .ncpus = d->vcpus, .quirks = QUIRKS_AUTO,
		.console_fd = STDOUT_FILENO, .console_input = d->serial != DOMAIN_CHR_FILE,
		.disks = p->disks, .ndisks = d->ndisks, .rng = d->rng,
	};
	for (unsigned i = 0; i < d->ndisks; i++)
		p->disks[i] = (struct machine_disk_config){
			.path = d->disks[i].source, .read_only = d->disks[i].read_only,
			.format = d->disks[i].format == DOMAIN_DISK_QCOW2 ? DISK_FMT_QCOW2 : DISK_FMT_RAW,
			.serial = d->disks[i].serial,
		};
	if (d->vsock) {
		if ((ret = socket_path(p->vsock_path, sizeof(p->vsock_path), o, d->name, "vsock", e)))
			return ret;
		p->vsock = (struct machine_vsock_config){ .guest_cid = d->vsock_cid, .uds_path = p->vsock_path };
		p->mc.vsock = &p->vsock;
	}
	for (unsigned i = 0; i < d->nfs; i++) {
		char what[32];

		snprintf(what, sizeof(what), "fs%u.sock", i);
		if ((ret = socket_path(p->share_socks[i], sizeof(p->share_socks[i]), o, d->name, what, e)))
			return ret;
		p->shares[i] = (struct machine_share_config){
			.tag = d->fs[i].tag, .host_dir = d->fs[i].source, .read_only = d->fs[i].read_only,
			.virtiofsd = d->fs[i].binary ? d->fs[i].binary : p->virtiofsd,
			.socket_path = p->share_socks[i],
		};
	}
	p->mc.shares = p->shares;
	p->mc.nshares = d->nfs;
	if (d->nnics) {
		const struct domain_nic *nic = &d->nics[0];

		p->net.backend = nic->type == DOMAIN_NET_ETHERNET ? MACHINE_NET_TAP : MACHINE_NET_SLIRP;
		p->net.tap = nic->tap;
		if (nic->has_mac) {
			memcpy(p->net.mac, nic->mac, 6);
		} else {	/* a locally administered address from the name, stable across runs */
			uint32_t h = 5381;

			for (const char *c = d->name; *c; c++)
				h = h * 33 + (unsigned char)*c;
			p->net.mac[0] = 0x52;
			p->net.mac[1] = 0x54;
			p->net.mac[2] = 0x00;
			p->net.mac[3] = h >> 16;
			p->net.mac[4] = h >> 8;
			p->net.mac[5] = h;
		}
		p->mc.net = &p->net;
	}
	return 0;
}

/* Each boot's VMM keeps the runtime folder (its sockets), and the resolvers libslirp reads. */
static int plan_confine(const struct domain_def *d, const struct domain_run_opts *o, struct plan *p,
			struct error *e)
{
	enum confine_mode mode;
	bool inet = p->mc.net && p->net.backend != MACHINE_NET_TAP;
	int ret = confine_mode(&mode, e);

	snprintf(p->who, sizeof(p->who), "domain %s", d->name);
	if (ret || mode == CONFINE_OFF)
		return ret;
	p->keep_dirs[0] = d->vsock || d->nfs ? o->runtime : NULL;
	p->confine = (struct confine_vmm){
		.who = p->who, .dirs = p->keep_dirs, .loop = { .inet = inet, .log = mode == CONFINE_LOG },
	};
	p->mc.confine = confine_vmm_hook;
	p->mc.confine_opaque = &p->confine;
	return 0;
}

static int publish(struct machine *m, const struct domain_def *d, struct error *e)
{
	for (unsigned n = 0; n < d->nnics; n++)
		for (unsigned i = 0; i < d->nics[n].nforwards; i++) {
			const struct domain_forward *f = &d->nics[n].forwards[i];

			for (unsigned port = f->start; port <= f->end; port++) {
				int ret = machine_net_forward(m, f->udp, f->address, port, f->to + (port - f->start));

				if (ret)
					return err_sys(e, ret, "domain %s: host port %u/%s", d->name, port,
						       f->udp ? "udp" : "tcp");
			}
		}
	return 0;
}

/* Boot number runs + 1 of the domain (the first tells o->started), in the VMM process: res says how it went. */
static int run_once(void *arg, pid_t supervisor)
{
	struct boot_job *j = arg;
	const struct domain_def *d = j->d;
	struct boot_result *res = j->res;
	struct machine *m = NULL;
	struct boot b = { .ctl_fd = j->o->ctl_fd };
	int ret;

	j->p->mc.signals_from = supervisor;
	ret = machine_create(&j->p->mc, &m, &res->e);
	b.m = m;
	if (!ret)
		ret = publish(m, d, &res->e);
	if (!ret && b.ctl_fd >= 0 && (ret = loop_add(m->loop, b.ctl_fd, EPOLLIN, on_ctl, &b)))
		err_sys(&res->e, ret, "domain %s: its control socket", d->name);
	if (!ret)
		ret = machine_boot(m, &res->e);
	if (ret) {
		machine_destroy(m);
		res->ret = ret;
		return EXIT_VMM_ERROR;
	}
	res->started = 1;
	if (!j->runs && j->o->started)
		j->o->started(j->o->opaque);
	machine_wait(m);
	res->status = machine_report(m);
	res->reason = machine_end_reason(m);
	machine_destroy(m);
	res->ret = 0;
	return 0;
}

/* Boot once in a VMM process of its own; *res as it told. 0, or -errno with e (no boot, or no word of it). */
static int boot(struct boot_job *j, int *status, struct error *e)
{
	struct boot_result *res = j->res;
	int wstatus, ret;

	*res = (struct boot_result){ .ret = -EIO };
	err_set(&res->e, -EIO, "domain %s: its VMM process ended before it booted", j->d->name);
	if ((ret = machine_supervise(&(struct machine_supervised){ .run = run_once, .arg = j, .give_fd = -1,
								    .who = j->p->who },
				     &wstatus, e)))
		return ret;
	if (WIFSIGNALED(wstatus) && !res->started)
		return err_set(e, -EIO, "domain %s: its VMM process was killed by signal %d (%s)",
			       j->d->name, WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	if (WIFSIGNALED(wstatus)) {	/* as when QEMU dies under libvirt: the domain is off */
		pr_err("domain %s: its VMM process was killed by signal %d (%s)", j->d->name,
		       WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
		res->reason = VM_END_HOST;
		*status = 128 + WTERMSIG(wstatus);
		return 0;
	}
	if (res->ret) {
		*e = res->e;
		e->msg[sizeof(e->msg) - 1] = '\0';
		e->code = res->ret < 0 && res->ret > -4096 ? res->ret : -EIO;
		return e->code;
	}
	*status = res->status;
	return 0;
}

int domain_run(const struct domain_def *d, const struct domain_run_opts *o, int *status,
	       struct error *e)
{
	struct plan p;
	struct boot_job job = { .d = d, .o = o, .p = &p };
	enum vm_end_reason reason;
	bool crashed;
	int ret;

	if ((ret = plan(d, o, &p, e)) || (ret = machine_validate(&p.mc, e)) ||
	    (ret = plan_confine(d, o, &p, e)))
		return err_wrap(e, ret, "domain %s", d->name);
	for (unsigned i = 0; i < d->nfs; i++)
		if (!d->fs[i].binary && !p.virtiofsd[0] &&
		    (ret = machine_find_virtiofsd(NULL, p.virtiofsd, sizeof(p.virtiofsd), e)))
			return err_wrap(e, ret, "domain %s: <filesystem>", d->name);
	if (d->serial == DOMAIN_CHR_FILE) {
		p.mc.console_fd = open(d->serial_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (p.mc.console_fd < 0)
			return err_sys(e, -errno, "domain %s: console %s", d->name, d->serial_path);
	}
	if ((d->vsock || d->nfs) && (ret = mkdir_p(AT_FDCWD, o->runtime, 0700))) {
		err_sys(e, ret, "runtime directory %s", o->runtime);
		goto out;
	}
	job.res = mmap(NULL, sizeof(*job.res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (job.res == MAP_FAILED) {
		job.res = NULL;
		ret = err_sys(e, -errno, "domain %s: a page shared with its VMM", d->name);
		goto out;
	}
	for (unsigned runs = 0;; runs++) {
		job.runs = runs;
		if ((ret = boot(&job, status, e)))
			break;
		reason = job.res->reason;
		/* A reboot, or a crash (a kernel panic is one, even when the kernel
		 * then resets the machine itself), boots again when the definition
		 * says restart. */
		crashed = reason == VM_END_CRASH || reason == VM_END_PANIC;
		if (!((reason == VM_END_RESET && d->on_reboot == DOMAIN_RESTART) ||
		      (crashed && d->on_crash == DOMAIN_RESTART)))
			break;
		if (runs == DOMAIN_RESTARTS_MAX) {
			pr_warn("domain %s: restarted %d times; stopping it", d->name, DOMAIN_RESTARTS_MAX);
			break;
		}
		pr_info("domain %s: %s; restarting it", d->name, crashed ? "crashed" : "rebooted");
	}
out:
	if (job.res)
		munmap(job.res, sizeof(*job.res));
	if (p.mc.console_fd != STDOUT_FILENO)
		close(p.mc.console_fd);
	return ret;
}
