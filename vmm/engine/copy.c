/*
 * `vmm cp`: files between the host and a running container, as tar streams
 * through the control socket and the agent (copy.h). The tar that comes back
 * from the guest is hostile: libarchive extracts it with its secure flags,
 * every entry must lie under the one top-level name we asked for, and only
 * files, folders and links come out, without setuid bits, owned by us.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/copy.h"
#include "vmm/engine/ctl.h"

struct tar_job {
	const char *src;	/* host path to archive */
	const char *name;	/* its name in the archive */
	int fd;			/* write end */
	struct error err;	/* why the archive could not be written */
};

/* Write a tar of job->src (recursively) whose top entry is job->name. */
static void *write_tar(void *arg)
{
	struct tar_job *j = arg;
	struct archive *disk = archive_read_disk_new(), *out = archive_write_new();
	struct archive_entry *e;
	size_t srclen = strlen(j->src);
	sigset_t pipe_sig;
	int r;

	/* The reader may give up first (the destination is not a folder): EPIPE here, not SIGPIPE's death */
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	archive_write_set_format_pax_restricted(out);
	archive_read_disk_set_standard_lookup(disk);
	archive_read_disk_set_symlink_physical(disk);
	if (archive_write_open_fd(out, j->fd) != ARCHIVE_OK ||
	    archive_read_disk_open(disk, j->src) != ARCHIVE_OK) {
		err_set(&j->err, -EIO, "%s: %s", j->src, archive_error_string(disk) ?
			archive_error_string(disk) : archive_error_string(out));
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
			err_set(&j->err, -EIO, "%s", archive_error_string(disk));
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

/* One cp_in/cp_out request with the tar's pipe end fd (closed here); 0 or -EIO with the agent's message. */
static int request(int ctl, const char *op, const char *path, int fd, struct error *e)
{
	json_object *req = json_object_new_object(), *rep = NULL;
	int ret;

	json_object_object_add(req, "op", json_object_new_string(op));
	json_object_object_add(req, "path", json_object_new_string(path));
	ret = engine_send(ctl, req, &fd, 1, e);
	close(fd);	/* ours closed: the other end sees the end of the tar */
	if (!ret)
		ret = engine_reply(ctl, &rep, e);
	json_object_put(rep);
	return ret;
}

static int copy_in(int ctl, const char *src, const char *dst, struct error *e)
{
	char dstcopy[4096], srccopy[4096];
	struct error why = { 0 };
	struct stat st;

	if (lstat(src, &st) < 0)
		return err_sys(e, -errno, "%s", src);
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
			return err_sys(e, -errno, "pipe");
		job.src = src;
		job.fd = p[1];
		err_clear(&job.err);
		err_clear(&why);
		if ((ret = pthread_create(&t, NULL, write_tar, &job))) {
			close(p[0]);
			close(p[1]);
			return err_sys(e, -ret, "copying %s: a thread for the archive", src);
		}
		ret = request(ctl, "cp_in", dircopy, p[0], &why);
		pthread_join(t, NULL);
		if (job.err.code)
			return err_copy(e, &job.err, job.err.code);
		if (!ret)
			return 0;
		if (attempt == 1 || str_has_suffix(dst, "/"))
			return err_set(e, ret, "copying %s into the container: %s", src, why.msg);
		snprintf(dstcopy, sizeof(dstcopy), "%s", dst);
	}
	return -EIO;
}

/* Is name top itself or below it ("data", "data/x"; not "datafoo")? */
static bool under(const char *name, const char *top, size_t toplen)
{
	return !strncmp(name, top, toplen) && (!name[toplen] || name[toplen] == '/');
}

int engine_copy_extract(int fd, const char *dir, const char *top, const char *as, bool archive_owners,
			struct error *e)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *ent;
	size_t toplen = strlen(top);
	unsigned skipped = 0;
	int r, ret = 0, cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* Entries stay relative (the secure flags refuse absolute ones): work from dir. */
	if (cwd < 0 || chdir(dir) < 0) {
		ret = err_sys(e, -errno, "%s", dir);
		goto out;
	}

	archive_read_support_format_tar(in);
	/* No xattrs, ACLs or file flags (security.capability would grant capabilities). */
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK |
				       (archive_owners ? ARCHIVE_EXTRACT_OWNER : 0));
	if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
		ret = err_set(e, -EIO, "%s", archive_error_string(in));
		goto out;
	}
	while ((r = archive_read_next_header(in, &ent)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(ent), *h = archive_entry_hardlink(ent);
		mode_t type = archive_entry_filetype(ent);
		char path[8192];

		if (!p || !under(p, top, toplen)) {
			ret = err_set(e, -EINVAL, "the container sent an unexpected entry '%s'", p ? p : "");
			break;
		}
		if (h && !under(h, top, toplen)) {
			ret = err_set(e, -EINVAL, "the container sent a hardlink out of the copy: '%s'", h);
			break;
		}
		/* Files, folders and links only: never a device node, FIFO or socket from a guest. */
		if (!h && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
			skipped++;
			continue;
		}
		snprintf(path, sizeof(path), "%s%s", as, p + toplen);
		archive_entry_set_pathname(ent, path);
		if (h) {
			snprintf(path, sizeof(path), "%s%s", as, h + toplen);
			archive_entry_set_hardlink(ent, path);
		}
		/* No setuid or setgid bits from the guest (docker cp strips them too). */
		archive_entry_set_perm(ent, archive_entry_perm(ent) & ~(mode_t)(S_ISUID | S_ISGID));
		if (archive_write_header(out, ent) != ARCHIVE_OK) {
			ret = err_set(e, -EIO, "%s", archive_error_string(out));
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
	if (!ret && r != ARCHIVE_EOF)
		ret = err_set(e, -EIO, "%s", archive_error_string(in));
	if (skipped)
		pr_warn("the container sent %u device nodes, FIFOs or sockets: not copied", skipped);
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
	struct error err;
};

static void *request_out(void *arg)
{
	struct out_job *j = arg;

	j->ret = request(j->ctl, "cp_out", j->src, j->wfd, &j->err);
	return NULL;
}

static int copy_out(int ctl, const char *src, const char *dst, bool archive_owners, struct error *e)
{
	char srccopy[4096], dstcopy[4096], dircopy[4096];
	const char *top, *as, *dir;
	struct out_job job = { .ctl = ctl, .src = src };
	struct error why = { 0 };
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
		return err_sys(e, -errno, "pipe");
	job.wfd = p[1];
	if ((ret = pthread_create(&t, NULL, request_out, &job))) {
		close(p[0]);
		close(p[1]);
		return err_sys(e, -ret, "copying %s: a thread for the request", src);
	}
	ret = engine_copy_extract(p[0], dir, top, as, archive_owners, &why);
	close(p[0]);
	pthread_join(t, NULL);
	if (job.ret)
		return err_set(e, job.ret, "copying %s out of the container: %s", src, job.err.msg);
	if (ret)
		return err_set(e, ret, "copying %s to %s: %s", src, dst, why.msg);
	return 0;
}

int engine_copy(const struct paths *p, const char *ref, bool into, const char *src, const char *dst,
		bool archive_owners, struct error *e)
{
	struct container *ct;
	int fd, ret = engine_connect(p, ref, &ct, &fd, e);

	if (ret)
		return ret;
	ret = into ? copy_in(fd, src, dst, e) : copy_out(fd, src, dst, archive_owners, e);
	close(fd);
	container_free(ct);
	return ret;
}

int engine_copy_stream(const struct paths *p, const char *ref, bool into, const char *path, int fd,
		       struct error *e)
{
	struct container *ct;
	int ctl, mine, ret = engine_connect(p, ref, &ct, &ctl, e);

	if (ret)
		return ret;
	if ((mine = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		ret = err_sys(e, -errno, "copy: a descriptor");
	else if ((ret = request(ctl, into ? "cp_in" : "cp_out", path, mine, e)))
		err_wrap(e, ret, "copy %s %s the container", path, into ? "into" : "from");
	close(ctl);
	container_free(ct);
	return ret;
}
