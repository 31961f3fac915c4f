/*
 * vmm cp: copy files between the host and a running container, as tar
 * streams through the agent. The tar that comes back from the guest is
 * hostile: libarchive extracts it with its secure flags, and every entry must
 * lie under the one top-level name we asked for.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/ctl-client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/ctl.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

struct tar_job {
	const char *src;	/* host path to archive */
	const char *name;	/* its name in the archive */
	int fd;			/* write end */
	int err;
	char msg[512];
};

/* Write a tar of job->src (recursively) whose top entry is job->name. */
static void *write_tar(void *arg)
{
	struct tar_job *j = arg;
	struct archive *disk = archive_read_disk_new(), *out = archive_write_new();
	struct archive_entry *e;
	size_t srclen = strlen(j->src);
	int r;

	archive_write_set_format_pax_restricted(out);
	archive_read_disk_set_standard_lookup(disk);
	archive_read_disk_set_symlink_physical(disk);
	if (archive_write_open_fd(out, j->fd) != ARCHIVE_OK ||
	    archive_read_disk_open(disk, j->src) != ARCHIVE_OK) {
		snprintf(j->msg, sizeof(j->msg), "%s: %s", j->src, archive_error_string(disk) ?
			 archive_error_string(disk) : archive_error_string(out));
		j->err = 1;
		goto out;
	}
	for (;;) {
		char name[8192];
		const char *p;

		e = archive_entry_new();
		r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r != ARCHIVE_OK) {
			snprintf(j->msg, sizeof(j->msg), "%s", archive_error_string(disk));
			j->err = 1;
			archive_entry_free(e);
			break;
		}
		archive_read_disk_descend(disk);
		/* host path SRC/x/y -> NAME/x/y */
		p = archive_entry_pathname(e);
		snprintf(name, sizeof(name), "%s%s", j->name, strlen(p) > srclen ? p + srclen : "");
		archive_entry_set_pathname(e, name);
		if (archive_write_header(out, e) == ARCHIVE_OK && archive_entry_size(e) > 0) {
			int fd = open(archive_entry_sourcepath(e), O_RDONLY | O_CLOEXEC);
			char buf[65536];
			ssize_t n;

			while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
				archive_write_data(out, buf, n);
			if (fd >= 0)
				close(fd);
		}
		archive_entry_free(e);
	}
out:
	archive_read_free(disk);
	archive_write_close(out);
	archive_write_free(out);
	close(j->fd);
	return NULL;
}

/* One cp_in/cp_out request; returns 0, or -EIO with the agent's message in msg. */
static int request(int ctl, const char *op, const char *path, int fd, char *msg, size_t msglen)
{
	json_object *req = json_object_new_object(), *rep = NULL, *err;
	struct ctl_reader rd = { 0 };
	int got[CTL_MAX_FDS], ret;
	unsigned ngot;

	json_object_object_add(req, "op", json_object_new_string(op));
	json_object_object_add(req, "path", json_object_new_string(path));
	ret = ctl_send(ctl, req, &fd, 1);
	json_object_put(req);
	close(fd);
	if (ret)
		return ret;
	while ((ret = ctl_recv(ctl, &rd, &rep, got, &ngot)) == 0)
		;
	ctl_reader_free(&rd);
	if (ret < 0) {
		snprintf(msg, msglen, "the container's vmm process went away");
		return -EIO;
	}
	if (json_object_object_get_ex(rep, "error", &err)) {
		snprintf(msg, msglen, "%s", json_object_get_string(err));
		ret = -EIO;
	} else {
		ret = 0;
	}
	json_object_put(rep);
	return ret;
}

static int copy_in(int ctl, const char *src, const char *dst)
{
	char dstcopy[4096], srccopy[4096], msg[512];
	struct stat st;

	if (lstat(src, &st) < 0) {
		pr_err("%s: %s", src, strerror(errno));
		return 1;
	}
	snprintf(srccopy, sizeof(srccopy), "%s", src);
	snprintf(dstcopy, sizeof(dstcopy), "%s", dst);
	/* First as "into the directory DST", then as "to the name DST" (docker cp's rules). */
	for (int attempt = 0; attempt < 2; attempt++) {
		char dircopy[4096], base[4096];
		struct tar_job job;
		pthread_t t;
		int p[2], ret;

		if (attempt == 0) {
			job.name = basename(srccopy);
			snprintf(dircopy, sizeof(dircopy), "%s", dst);
		} else {
			snprintf(base, sizeof(base), "%s", basename(dstcopy));
			job.name = base;
			snprintf(dircopy, sizeof(dircopy), "%s", dirname(dstcopy));
		}
		if (pipe2(p, O_CLOEXEC) < 0)
			return 1;
		job.src = src;
		job.fd = p[1];
		job.err = 0;
		pthread_create(&t, NULL, write_tar, &job);
		ret = request(ctl, "cp_in", dircopy, p[0], msg, sizeof(msg));
		pthread_join(t, NULL);
		if (job.err) {
			pr_err("%s", job.msg);
			return 1;
		}
		if (!ret)
			return 0;
		if (attempt == 1 || str_has_suffix(dst, "/")) {
			pr_err("copying %s into the container: %s", src, msg);
			return 1;
		}
		snprintf(dstcopy, sizeof(dstcopy), "%s", dst);
	}
	return 1;
}

/* Extract the guest's tar into dir, renaming its top component from top to as. */
static int extract(int fd, const char *dir, const char *top, const char *as, char *msg, size_t msglen)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *e;
	size_t toplen = strlen(top);
	int r, ret = 0, cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* Entries stay relative (the secure flags refuse absolute ones): work from dir. */
	if (cwd < 0 || chdir(dir) < 0) {
		snprintf(msg, msglen, "%s: %s", dir, strerror(errno));
		ret = -errno;
		goto out;
	}

	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK);
	if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
		snprintf(msg, msglen, "%s", archive_error_string(in));
		ret = -EIO;
		goto out;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		char path[8192];

		if (!p || strncmp(p, top, toplen) || (p[toplen] && p[toplen] != '/')) {
			snprintf(msg, msglen, "the container sent an unexpected entry '%s'", p ? p : "");
			ret = -EINVAL;
			break;
		}
		snprintf(path, sizeof(path), "%s%s", as, p + toplen);
		archive_entry_set_pathname(e, path);
		if (archive_entry_hardlink(e)) {
			const char *h = archive_entry_hardlink(e);

			if (strncmp(h, top, toplen)) {
				snprintf(msg, msglen, "the container sent a hardlink out of the copy: '%s'", h);
				ret = -EINVAL;
				break;
			}
			snprintf(path, sizeof(path), "%s%s", as, h + toplen);
			archive_entry_set_hardlink(e, path);
		}
		if (archive_write_header(out, e) != ARCHIVE_OK) {
			snprintf(msg, msglen, "%s", archive_error_string(out));
			ret = -EIO;
			break;
		}
		{
			const void *buf;
			size_t len;
			la_int64_t off;

			while (archive_read_data_block(in, &buf, &len, &off) == ARCHIVE_OK)
				archive_write_data_block(out, buf, len, off);
		}
		archive_write_finish_entry(out);
	}
	if (!ret && r != ARCHIVE_EOF) {
		snprintf(msg, msglen, "%s", archive_error_string(in));
		ret = -EIO;
	}
out:
	archive_read_free(in);
	archive_write_close(out);
	archive_write_free(out);
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			pr_debug("fchdir: %s", strerror(errno));
		close(cwd);
	}
	return ret;
}

struct out_job {
	int ctl;
	const char *src;
	int wfd;
	int ret;
	char msg[512];
};

static void *request_out(void *arg)
{
	struct out_job *j = arg;

	j->ret = request(j->ctl, "cp_out", j->src, j->wfd, j->msg, sizeof(j->msg));
	return NULL;
}

static int copy_out(int ctl, const char *src, const char *dst)
{
	char srccopy[4096], dstcopy[4096], dircopy[4096], msg[512] = "";
	const char *top, *as, *dir;
	struct out_job job = { .ctl = ctl, .src = src };
	struct stat st;
	pthread_t t;
	int p[2], ret;

	snprintf(srccopy, sizeof(srccopy), "%s", src);
	top = basename(srccopy);
	snprintf(dstcopy, sizeof(dstcopy), "%s", dst);
	snprintf(dircopy, sizeof(dircopy), "%s", dst);
	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
		dir = dst;	/* into the directory, under its own name */
		as = top;
	} else {
		dir = dirname(dircopy);
		as = basename(dstcopy);
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	job.wfd = p[1];
	pthread_create(&t, NULL, request_out, &job);
	ret = extract(p[0], dir, top, as, msg, sizeof(msg));
	close(p[0]);
	pthread_join(t, NULL);
	if (job.ret) {
		pr_err("copying %s out of the container: %s", src, job.msg);
		return 1;
	}
	if (ret) {
		pr_err("copying %s to %s: %s", src, dst, msg);
		return 1;
	}
	return 0;
}

/* "CONTAINER:PATH" -> container, path; a host path has no colon before its first slash. */
static char *split(char *arg, char **path)
{
	char *colon = strchr(arg, ':');

	if (!colon || (strchr(arg, '/') && strchr(arg, '/') < colon))
		return NULL;
	*colon = '\0';
	*path = colon + 1;
	return arg;
}

int cmd_cp(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *src_path = NULL, *dst_path = NULL, *src_ct, *dst_ct;
	struct container *ct;
	int c, fd, status;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: vmm cp CONTAINER:SRC_PATH DEST_PATH\n"
			       "       vmm cp SRC_PATH CONTAINER:DEST_PATH\n\n"
			       "Copy files or directories between a running container and the host.\n");
			return 0;
		}
		return cli_bad_option("cp", argv);
	}
	if (argc - optind != 2)
		return cli_usage_error("cp", "requires a source and a destination");
	src_ct = split(argv[optind], &src_path);
	dst_ct = split(argv[optind + 1], &dst_path);
	if (!!src_ct == !!dst_ct)
		return cli_usage_error("cp", "exactly one side must be CONTAINER:PATH");
	if ((src_ct && !*src_path) || (dst_ct && !*dst_path))
		return cli_usage_error("cp", "the container path is empty");
	if (cli_ctl_connect(cli, src_ct ? src_ct : dst_ct, &ct, &fd))
		return 1;
	status = src_ct ? copy_out(fd, src_path, argv[optind + 1]) : copy_in(fd, argv[optind], dst_path);
	close(fd);
	container_free(ct);
	return status;
}
