/*
 * A container that runs in an engine's network namespace (vmm oci with a
 * network namespace path: podman's and CRI's networks), as Kata does it: the
 * vmm process enters the namespace before the machine is made, makes a tap
 * device there, and tc redirects every frame between the engine's interface
 * (its veth) and the tap, both ways. The guest takes that interface's
 * address and MAC (config.net), so the engine's bridge, NAT and published
 * ports reach it unchanged. sysfs is mounted again in a mount namespace of
 * our own, so that /sys shows the namespace's devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/engine/container.h"
#include "vmm/engine/runner-internal.h"

/* tc ARGS... in the namespace we are in now. 0, or -EIO with e. */
static int tc(struct error *e, char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return err_sys(e, -errno, "fork tc");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		execvp("tc", argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_sys(e, -errno, "tc");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return err_set(e, -ENOENT, "tc not found: joining a network namespace needs iproute2's tc");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return err_set(e, -EIO, "tc %s %s %s %s: failed", argv[1], argv[2], argv[3], argv[4]);
	return 0;
}

/* Every frame that comes in on from leaves on to. */
static int redirect(const char *from, const char *to, struct error *e)
{
	char *const qdisc[] = { "tc", "qdisc", "add", "dev", (char *)from, "ingress", NULL };
	char *const filter[] = { "tc", "filter", "add", "dev", (char *)from, "parent", "ffff:", "protocol", "all",
				 "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev",
				 (char *)to, NULL };
	int ret = tc(e, qdisc);

	return ret ? ret : tc(e, filter);
}

/* The tap, made to stay (the machine opens it as any tap) and up. */
static int make_tap(const char *name, struct error *e)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), sock, ret = 0;

	if (fd < 0)
		return err_sys(e, -errno, "/dev/net/tun");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0)
		ret = err_sys(e, -errno, "tap device %s in the network namespace", name);
	close(fd);
	if (ret)
		return ret;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(sock, SIOCSIFFLAGS, &ifr) < 0))
		ret = err_sys(e, -errno, "tap device %s: up", name);
	if (sock >= 0)
		close(sock);
	return ret;
}

int runner_netns_enter(struct runner *r, struct error *e)
{
	const struct container_config *c = &r->ct->cfg;
	int fd, ret;

	if (!c->netns)
		return 0;
	fd = open(c->netns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, -errno, "network namespace %s", c->netns);
	ret = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return err_sys(e, ret, "network namespace %s: cannot enter it", c->netns);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
	    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return err_sys(e, -errno, "network namespace %s: its sysfs", c->netns);
	if (if_nametoindex(c->net.tap))	/* made by an earlier run in this namespace */
		return 0;
	if ((ret = make_tap(c->net.tap, e)) || (ret = redirect(c->netns_if, c->net.tap, e)) ||
	    (ret = redirect(c->net.tap, c->netns_if, e)))
		return err_wrap(e, ret, "network namespace %s", c->netns);
	return 0;
}
