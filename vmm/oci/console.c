/* The pty of process.terminal, and --pid-file (oci.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/oci/oci.h"

/* The master to the engine, as runc sends it: one byte of data and the fd (SCM_RIGHTS). */
static int send_master(const char *path, int master, struct error *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char data = 0, ctrl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
			      .msg_controllen = sizeof(ctrl) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int fd, ret = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "--console-socket %s: too long for a socket path", path);
	memcpy(sa.sun_path, path, strlen(path));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, -errno, "--console-socket %s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		ret = err_sys(e, -errno, "--console-socket %s", path);
	close(fd);
	return ret;
}

int oci_console(const char *socket_path, struct error *e)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave = -1, ret;
	char *name;

	if (master < 0)
		return err_sys(e, -errno, "a pty for process.terminal");
	if (grantpt(master) < 0 || unlockpt(master) < 0 || !(name = ptsname(master)) ||
	    (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		ret = err_sys(e, -errno, "a pty for process.terminal");
		close(master);
		return ret;
	}
	ret = send_master(socket_path, master, e);
	close(master);
	if (ret) {
		close(slave);
		return ret;
	}
	return slave;
}

int oci_pid_file(const char *path, int pid, struct error *e)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%d", pid);
	int ret = write_file_atomic(AT_FDCWD, path, text, (size_t)len, 0644);

	return ret ? err_sys(e, ret, "--pid-file %s", path) : 0;
}
