#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/engine/netcfg.h"
#include "vmm/engine/netport.h"
#include "vmm/base/util.h"

#define TCP_LISTEN	0x0a
#define MAX_FDS_SCANNED	200000	/* bound the /proc walk on busy hosts */

static int bind_socket(const struct port_binding *b, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd;

	if (b->host_ip[0] && inet_pton(AF_INET, b->host_ip, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, (b->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!b->udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int netport_probe(const struct port_binding *b)
{
	int fd = bind_socket(b, b->host_port);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int netport_pick(struct port_binding *b)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = bind_socket(b, 0), ret = 0;

	if (fd < 0)
		return fd;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		ret = -errno;
	else
		b->host_port = ntohs(sa.sin_port);
	close(fd);
	return ret;
}

/* The inode of a socket bound to port (TCP: listening) in /proc/net/{tcp,udp}; 0 if none. */
static unsigned long find_inode(bool udp, uint16_t port)
{
	FILE *f = fopen(udp ? "/proc/net/udp" : "/proc/net/tcp", "re");
	char line[512];
	unsigned long found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned addr, lport, st;
		unsigned long inode;

		if (sscanf(line, " %*u: %8x:%4x %*8x:%*4x %2x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   &addr, &lport, &st, &inode) != 4)
			continue;
		if (lport == port && (udp || st == TCP_LISTEN) && inode)
			found = inode;
	}
	fclose(f);
	return found;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int netport_holder(bool udp, uint16_t port, pid_t *pid, char *comm, size_t len)
{
	unsigned long inode = find_inode(udp, port);
	char want[64], path[600], link[64];
	unsigned scanned = 0;
	struct dirent *pe;
	DIR *proc;
	int ret = -ENOENT;

	if (!inode)
		return -ENOENT;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while (ret && (pe = readdir(proc)) && scanned < MAX_FDS_SCANNED) {
		struct dirent *fe;
		DIR *fds;

		if (!all_digits(pe->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", pe->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds)) && scanned++ < MAX_FDS_SCANNED) {
			ssize_t n;

			if (!all_digits(fe->d_name))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", pe->d_name, fe->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want))
				continue;
			*pid = atoi(pe->d_name);
			snprintf(path, sizeof(path), "/proc/%s/comm", pe->d_name);
			comm[0] = '\0';
			{
				int fd = open(path, O_RDONLY | O_CLOEXEC);

				if (fd >= 0) {
					n = read(fd, comm, len - 1);
					comm[n > 0 ? n : 0] = '\0';
					comm[strcspn(comm, "\n")] = '\0';
					close(fd);
				}
			}
			ret = 0;
			break;
		}
		closedir(fds);
	}
	closedir(proc);
	return ret;
}

pid_t netport_parent(pid_t pid)
{
	char path[64], buf[512], *end;
	int fd, ppid = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	end = strrchr(buf, ')');	/* the name may hold anything, parentheses too */
	if (!end || sscanf(end + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}
