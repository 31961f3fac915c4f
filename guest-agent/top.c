/*
 * `vmm top`: the container's processes, read from the container's own
 * /proc (through /proc/<init>/root, so PIDs are the container's), with the
 * user names of the image's /etc/passwd. `vmm stats`: its cgroup's usage.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "guest-agent/agent.h"

#define MAX_ROWS	1000
#define CMD_MAX		256

/* utime + stime in ms, and the command name, from /proc/PID/stat. */
static int parse_stat(char *buf, uint64_t *ms, char *comm, size_t commlen)
{
	char *open = strchr(buf, '('), *close = strrchr(buf, ')'), *f;
	uint64_t t[2] = { 0, 0 };
	int field = 3;	/* the first after ") " is field 3 (state) */

	if (!open || !close || close < open)
		return -EINVAL;
	*close = 0;
	scat(comm, commlen, open + 1, NULL);
	for (f = close + 2; *f && field <= 15; field++) {
		char *end = strchr(f, ' ');

		if (end)
			*end = 0;
		if (field == 14 || field == 15)
			parse_uint(f, 0, UINT64_MAX, &t[field - 14]);
		if (!end)
			break;
		f = end + 1;
	}
	*ms = (t[0] + t[1]) * 1000 / sysconf(_SC_CLK_TCK);
	return 0;
}

static uid_t status_uid(int dir, const char *pid)
{
	char path[32], buf[2048], *p;
	uint64_t uid = 0;

	scat(path, sizeof(path), pid, "/status", NULL);
	if (read_text(dir, path, buf, sizeof(buf)) < 0)
		return 0;
	p = strstr(buf, "\nUid:");
	if (!p)
		return 0;
	p += 5;
	while (*p == '\t' || *p == ' ')
		p++;
	while (isdigit((unsigned char)*p))
		uid = uid * 10 + (*p++ - '0');
	return uid;
}

static bool row(int root, int proc, const char *pid, struct proto_proc *out, char *user, char *cmd)
{
	char path[32], buf[1024], comm[64];
	ssize_t n;
	uint64_t v;

	if (parse_uint(pid, 0, UINT64_MAX, &v))
		return false;
	scat(path, sizeof(path), pid, "/stat", NULL);
	if (read_text(proc, path, buf, sizeof(buf)) < 0 || parse_stat(buf, &out->time_ms, comm, sizeof(comm)))
		return false;
	scat(path, sizeof(path), pid, "/cmdline", NULL);
	n = read_text(proc, path, cmd, CMD_MAX);
	if (n <= 0) {
		scat(cmd, CMD_MAX, "[", comm, "]", NULL);
	} else {
		while (n > 0 && !cmd[n - 1])
			n--;
		for (ssize_t i = 0; i < n; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		cmd[n] = 0;
	}
	out->pid = v;
	out->user = user_name(root, status_uid(proc, pid), user, 64);
	out->cmd = cmd;
	return true;
}

void top_reply(struct agent *a, uint16_t stream)
{
	char path[64], n[21], user[64], cmd[CMD_MAX];
	struct dirent *de;
	int root, proc, rows = 0;
	DIR *d;

	if (!a->main_pid || a->main_done) {
		agent_result(a, stream, ESRCH, "the container is not running");
		return;
	}
	scat(path, sizeof(path), "/proc/", utoa(a->main_pid, n), "/root", NULL);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	proc = root < 0 ? -1 : openat(root, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = proc < 0 ? NULL : fdopendir(dup(proc));
	if (!d) {
		agent_result(a, stream, errno, "cannot read the container's /proc");
		if (root >= 0)
			close(root);
		if (proc >= 0)
			close(proc);
		return;
	}
	proto_top_begin(&a->out, stream);
	while ((de = readdir(d)) && rows < MAX_ROWS) {
		struct proto_proc p;

		if (isdigit((unsigned char)de->d_name[0]) && row(root, proc, de->d_name, &p, user, cmd)) {
			proto_top_add(&a->out, &p);
			rows++;
		}
	}
	closedir(d);
	close(proc);
	close(root);
	if (proto_top_end(&a->out))
		agent_result(a, stream, E2BIG, "process list too large");
}

/* The number after key (a line's first word) in text, or text's first number when key is NULL. */
static bool text_number(const char *text, const char *key, uint64_t *v)
{
	const char *p = text;
	char num[24];

	if (key) {
		size_t n = strlen(key);

		while (p && (strncmp(p, key, n) || (p[n] != ' ' && p[n] != ':')))
			if ((p = strchr(p, '\n')))
				p++;
		if (!p)
			return false;
		p += n + 1;
		p += strspn(p, " ");
	}
	scat(num, sizeof(num), p, NULL);
	num[strcspn(num, " \n")] = 0;
	return !parse_uint(num, 0, UINT64_MAX, v);
}

/* A file's first number; false if none (no file, or "max"). */
static bool file_number(const char *file, uint64_t *v)
{
	char buf[64];

	return read_text(AT_FDCWD, file, buf, sizeof(buf)) > 0 && text_number(buf, NULL, v);
}

/* The lines of a file (a cgroup's threads). */
static uint64_t file_lines(const char *file)
{
	char buf[4096];
	uint64_t n = 0;
	ssize_t len;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	while (fd >= 0 && (len = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < len; i++)
			n += buf[i] == '\n';
	if (fd >= 0)
		close(fd);
	return n;
}

/*
 * The container cgroup's usage. Its memory and pids controllers are on only
 * with a limit (they cost the guest kernel work), and the VM is the
 * container's alone: without them, the guest's memory in use and the
 * cgroup's threads. Every file read costs an emulated guest kernel real time
 * on PVM hosts: each is read once, and only what the host shows.
 */
void stats_reply(struct agent *a, uint16_t stream)
{
	struct proto_stats s = { 0 };
	uint64_t total = 0, avail = 0;
	char meminfo[512];
	bool cgroup_mem;

	if (!a->main_pid || a->main_done) {
		agent_result(a, stream, ESRCH, "the container is not running");
		return;
	}
	cgroup_mem = file_number(AGENT_CGROUP "/memory.current", &s.mem);
	if (!cgroup_mem || !file_number(AGENT_CGROUP "/memory.max", &s.mem_max)) {
		/* MemTotal and MemAvailable are its first and third lines */
		if (read_text(AT_FDCWD, "/proc/meminfo", meminfo, sizeof(meminfo)) > 0 &&
		    text_number(meminfo, "MemTotal", &total) && text_number(meminfo, "MemAvailable", &avail) &&
		    avail <= total) {
			if (!cgroup_mem)
				s.mem = (total - avail) * 1024;
			s.mem_max = total * 1024;
		}
	}
	if (!file_number(AGENT_CGROUP "/pids.current", &s.pids))
		s.pids = file_lines(AGENT_CGROUP "/cgroup.threads");
	proto_stats_encode(&a->out, stream, &s);
}
