/*
 * A bootable machine: event loop, console, VM, the base devices (UART,
 * i8042, RTC, exit device), the devices its config lists (disks, vsock, rng,
 * network) and the kernel command line. The only code that names devices:
 * it lays them out (addresses, interrupt lines) and tells them where they
 * live through their configs. `vmm boot`, `vmm run` (the runner) and the
 * agent test helper describe the machine they want; this builds it.
 */
#ifndef VMM_MACHINE_MACHINE_H
#define VMM_MACHINE_MACHINE_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/disk/disk.h"
#include "vmm/cmdline.h"
#include "vmm/console.h"
#include "vmm/vm.h"

#define MACHINE_MAX_DISKS	8
#define MACHINE_MAX_SHARES	8
#define MACHINE_MAX_VIRTIO	16

struct error;
struct event_loop;
struct exit_dev;
struct i8042;
struct net_backend;
struct rtc;
struct serial;
struct virtio_blk;
struct virtio_fs;
struct virtio_mmio;
struct virtiofsd;
struct virtio_net;
struct virtio_rng;
struct vsock;

/* A disk image as a virtio-blk device (the first is /dev/vda). */
struct machine_disk_config {
	const char *path;
	enum disk_format format;	/* DISK_FMT_AUTO: probe */
	bool read_only;
	const char *serial;		/* GET_ID answer, at most 20 bytes; NULL: none */
	bool allow_unsafe_backing;
	const char *const *trusted_dirs;	/* backing files trusted there (the store) */
};

struct machine_vsock_config {
	uint64_t guest_cid;		/* 0: the default, 3 */
	const char *uds_path;		/* host programs' unix socket (docs/vsock.md); NULL: none */
};

enum machine_net_backend { MACHINE_NET_SLIRP, MACHINE_NET_TAP, MACHINE_NET_LAN };

#define MACHINE_LAN_MAX	8	/* container networks one guest is on (devices/net-lan.h) */

/* MACHINE_NET_LAN: one of the container networks the guest is on (devices/net-lan.h). */
struct machine_lan_config {
	const char *dir;		/* the network's port folder */
	struct in_addr ip, gateway;	/* network order */
	unsigned prefix;
	bool internal;			/* no way out, no published ports */
};

struct machine_net_config {
	enum machine_net_backend backend;
	const char *tap;		/* MACHINE_NET_TAP: an existing tap device */
	uint8_t mac[6];
	bool host_loopback;		/* slirp: the gateway reaches the host's loopback too */
	char *const *egress_allow;	/* slirp: --egress-allow rules, NULL-terminated; NULL: none */
	/* MACHINE_NET_LAN: the networks at boot (the first publishes the ports); more come and go
	 * with machine_net_attach and machine_net_detach */
	const struct machine_lan_config *lan;
	size_t nlan;
	/* Their names (lower case) to addresses: true when known. */
	bool (*resolve)(void *opaque, const char *name, struct in_addr *out);
	void *resolve_opaque;
};

/* The guest's side of the user-mode network (NULLs with a tap: the user's network). */
struct machine_net_info {
	const char *ip;			/* "10.0.2.15" */
	const char *cidr;		/* "10.0.2.15/24" */
	const char *gateway;
	const char *dns;
};

/*
 * A host folder shared with the guest: a virtio-fs device served by its own
 * virtiofsd. The guest mounts it by tag (mount -t virtiofs TAG DIR).
 */
struct machine_share_config {
	const char *tag;		/* at most 36 bytes */
	const char *host_dir;
	bool read_only;			/* enforced on the host (a read-only bind mount) */
	const char *virtiofsd;		/* the daemon binary (virtiofsd_find) */
	const char *socket_path;	/* where the daemon listens (the runtime dir) */
	const char *log_path;		/* its stderr; NULL: discarded */
};

typedef void (*machine_accept_fn)(void *opaque, int fd, uint32_t guest_port);

/* A signal passed on by the supervisor: sigqueue'd, the original number in its value. */
#define MACHINE_SIG_PASSED	(SIGRTMIN + 1)

struct machine_config {
	const char *name;
	const char *kernel;
	const char *initrd;		/* NULL: none */
	const char *user_cmdline;	/* appended last; NULL: none */
	uint64_t mem_size;		/* bytes */
	unsigned ncpus;
	enum quirks_mode quirks;
	const char *mem_file;		/* restoring a snapshot: its memory file */
	int console_fd;			/* guest console output; -1 discards */
	uint64_t console_max;		/* bytes console_fd takes at most; 0: no limit */
	bool console_input;		/* forward stdin to the UART */
	/*
	 * SIGINT/SIGTERM/SIGHUP (and SIGWINCH) go here instead of stopping the
	 * VM, on the loop thread; NULL: a signal ends the VM (vmm boot).
	 */
	void (*on_signal)(void *opaque, int sig);
	void *signal_opaque;
	/*
	 * Nonzero: only the kernel's signals (a terminal's ^C, SIGWINCH, SIGHUP)
	 * and MACHINE_SIG_PASSED from this process count; others are dropped.
	 * It is the supervisor (vmm/machine/supervise.h), which passes on the signals
	 * it gets: one sent to the whole process group reaches the VM once.
	 */
	pid_t signals_from;
	/* vm_config's: the process confines itself before the vCPUs start */
	int (*confine)(void *opaque, struct error *e);
	void *confine_opaque;

	/* Devices besides the base ones, in this order (part of a snapshot's shape). */
	const struct machine_disk_config *disks;
	unsigned ndisks;
	const struct machine_vsock_config *vsock;	/* NULL: none */
	bool rng;
	const struct machine_net_config *net;		/* NULL: no network interface */
	/* Shared folders; with any, guest RAM is a memfd the daemons map. */
	const struct machine_share_config *shares;
	unsigned nshares;
};

struct machine {
	struct machine_config cfg;
	struct event_loop *loop;
	struct console console;
	struct vm *vm;
	struct serial *serial;
	struct rtc *rtc;
	struct i8042 *i8042;
	struct exit_dev *exit_dev;
	struct cmdline cmdline;		/* the devices' parameters, before boot */
	struct virtio_blk *disks[MACHINE_MAX_DISKS];
	unsigned ndisks;
	struct vsock *vsock;
	struct virtio_rng *rng;
	struct virtio_net *net;
	struct net_backend *net_backend;	/* owned by net */
	struct virtio_fs *shares[MACHINE_MAX_SHARES];
	struct virtiofsd *share_daemons[MACHINE_MAX_SHARES];
	unsigned nshares;
	const char *virtiofsd_probed;	/* the daemon binary whose flavour was asked once... */
	int virtiofsd_flavour;		/* ...and its enum virtiofsd_flavour (devices/virtiofsd.h) */
	struct virtio_mmio *virtio[MACHINE_MAX_VIRTIO];	/* by slot, for snapshots */
	unsigned nvirtio;
	int signal_fd;
	int exit_signal;	/* the host signal that stopped us, 0 if none */
	uint64_t start_ns;
};

/* Check the configuration before touching /dev/kvm: 0, or -errno with e naming the problem. */
int machine_validate(const struct machine_config *cfg, struct error *e);
/* The VM and every configured device. 0 or -errno with e. */
int machine_create(const struct machine_config *cfg, struct machine **out, struct error *e);
/* Compose the command line, load kernel and initrd, start the vCPUs. 0 or -errno with e. */
int machine_boot(struct machine *m, struct error *e);
/* What the devices moved so far (vmm stats): bytes in and out of the
 * network, read and written on the disks. */
struct machine_io_stats {
	uint64_t net_rx, net_tx, blk_read, blk_write;
};
void machine_io_stats(struct machine *m, struct machine_io_stats *out);
/* Serve the event loop until the guest ends; then join the vCPUs. */
int machine_wait(struct machine *m);
/* vmm pause: park every vCPU outside KVM_RUN (devices and the event loop go on);
 * false if the guest ended first. machine_resume lets them run again. */
bool machine_pause(struct machine *m);
void machine_resume(struct machine *m);
/* Why the guest ended: vm_end_reason, with a reset or crash that follows a
 * panic message on the console reported as VM_END_PANIC. */
enum vm_end_reason machine_end_reason(struct machine *m);
/*
 * Say how the guest ended (an error line plus console tail or registers for
 * panics and crashes) and return vmm's exit status: the guest's status,
 * 128+signal when stopped by a signal, or EXIT_VMM_ERROR (125).
 */
int machine_report(struct machine *m);
void machine_destroy(struct machine *m);

/* Monotonic nanoseconds since the machine was created. */
uint64_t machine_uptime_ns(const struct machine *m);

/* The vsock device (cfg.vsock): accept guest connections to a host port (loop thread). */
int machine_vsock_listen(struct machine *m, uint32_t port, machine_accept_fn fn, void *opaque);
void machine_vsock_unlisten(struct machine *m, uint32_t port);
/* Tell the guest its vsock transport was reset (after a restore): connections start over. */
void machine_vsock_reset(struct machine *m);

/*
 * The network (cfg.net): forward host_ip:host_port (NULL or "": any address)
 * to the guest's guest_port through the user-mode network. 0, -EADDRINUSE,
 * -EACCES, -EADDRNOTAVAIL... (the caller explains which port).
 */
int machine_net_forward(struct machine *m, bool udp, const char *host_ip, uint16_t host_port,
			uint16_t guest_port);
/*
 * A running guest on container networks (MACHINE_NET_LAN) joins one more
 * (loop thread; 0 or -errno with e), or leaves the one of port folder dir
 * (0 or -ENOENT).
 */
int machine_net_attach(struct machine *m, const struct machine_lan_config *c, struct error *e);
int machine_net_detach(struct machine *m, const char *dir);
void machine_net_info(const struct machine_net_config *cfg, struct machine_net_info *out);
/*
 * The virtiofsd that serves shared folders: override (--virtiofsd), else
 * $VMM_VIRTIOFSD, else where Debian puts it. 0, or -ENOENT with e saying what to install.
 */
int machine_find_virtiofsd(const char *override, char *path, size_t len, struct error *e);
/* Which daemon binary is (it is asked: an exec), for vmm check: "QEMU's C virtiofsd" or "the Rust virtiofsd". */
const char *machine_virtiofsd_kind(const char *binary);
/* Would --network tap:name work? 0, or -errno with e saying what to do. */
int machine_net_check_tap(const char *name, struct error *e);
/* One --egress-allow rule (devices/net-egress.h): 0, or -EINVAL with e. */
int machine_net_check_egress(const char *rule, struct error *e);

#endif
