#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/rtc.h"
#include "devices/serial.h"
#include "devices/virtio/mmio.h"
#include "vmm/base/digest.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/kvm.h"
#include "vmm/machine/machine.h"
#include "vmm/machine/snapshot.h"
#include "vmm/x86/cpu-state.h"
#include "vmm/x86/quirks-pvm.h"

#define STATE_FILE	"state"
#define MEMORY_FILE	"memory"

/* "blk,vsock,rng,net": the virtio devices cfg asks for, in slot order. */
static void device_list(const struct machine_config *cfg, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < cfg->ndisks && n < len; i++)
		n += snprintf(buf + n, len - n, "%sblk", n ? "," : "");
	if (cfg->vsock && n < len)
		n += snprintf(buf + n, len - n, "%svsock", n ? "," : "");
	if (cfg->rng && n < len)
		n += snprintf(buf + n, len - n, "%srng", n ? "," : "");
	if (cfg->net && n < len)
		n += snprintf(buf + n, len - n, "%snet", n ? "," : "");
	for (unsigned i = 0; i < cfg->nshares && n < len; i++)
		n += snprintf(buf + n, len - n, "%sfs", n ? "," : "");
}

int snapshot_key(const struct machine_config *cfg, char key[SNAP_KEY_LEN + 1])
{
	char kh[DIGEST_BUF], ih[DIGEST_BUF], desc[512], d[DIGEST_BUF], devices[128];
	bool pvm = cfg->quirks == QUIRKS_ON || (cfg->quirks == QUIRKS_AUTO && kvm_host_is_pvm());
	int ret = digest_file(cfg->kernel, kh, NULL);

	if (!ret)
		ret = digest_file(cfg->initrd, ih, NULL);
	if (ret)
		return ret;
	device_list(cfg, devices, sizeof(devices));
	snprintf(desc, sizeof(desc), "vmm-snapshot v%d|kernel %s|agent %s|mem %llu|cpus %u|pvm %d|devices %s",
		 SNAP_VERSION, digest_hex(kh), digest_hex(ih), (unsigned long long)cfg->mem_size, cfg->ncpus,
		 pvm, devices);
	digest_buf(desc, strlen(desc), d);
	memcpy(key, digest_hex(d), SNAP_KEY_LEN + 1);
	return 0;
}

int snapshot_dir(const char *root, const char *key, char *buf, size_t len)
{
	int n = key ? snprintf(buf, len, "%s/snapshots/%s", root, key)
		    : snprintf(buf, len, "%s/snapshots", root);

	return (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int file_in(const char *dir, const char *name, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s", dir, name) >= len ? -ENAMETOOLONG : 0;
}

bool snapshot_usable(const char *root, const char *key, struct error *why)
{
	char dir[4096], path[4200];
	struct snap_header h;
	struct snapreader r;
	uint8_t *body;

	if (snapshot_dir(root, key, dir, sizeof(dir)) || file_in(dir, STATE_FILE, path, sizeof(path)) ||
	    access(path, F_OK))
		return false;
	if (snap_read(path, key, &h, &body, &r)) {
		err_set(why, -EINVAL, "snapshot %.12s is corrupt or from another vmm version: ignoring it and "
			"booting from scratch (it is replaced)", key);
		snapshot_remove(root, key);
		return false;
	}
	free(body);
	return true;
}

static int save_state(struct machine *m, struct snapbuf *b, struct error *e)
{
	struct vm *vm = m->vm;
	uint8_t digest[32];
	int ret = x86_vm_save(vm, b, e);

	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = x86_vcpu_save(&vm->vcpus[i], b, e);
	if (ret)
		return ret;
	serial_save(m->serial, b);
	rtc_save(m->rtc, b);
	for (unsigned i = 0; i < m->nvirtio; i++)
		virtio_mmio_save(m->virtio[i], b);
	pvm_quirks_save(vm, b);
	guest_mem_digest(&vm->mem, digest);
	snapbuf_put(b, "memory.sha256", digest, sizeof(digest));
	return b->err ? err_sys(e, b->err, "snapshot state") : 0;
}

int snapshot_save(struct machine *m, const char *root, const char *key, struct error *e)
{
	struct snap_header h = { .ncpus = m->vm->ncpus, .mem_size = m->vm->mem.ram_size };
	struct snapbuf b = { 0 };
	char dir[4096], tmp[4200], path[4300];
	uint64_t t0 = machine_uptime_ns(m);
	int fd = -1, ret;

	if ((ret = snapshot_dir(root, key, dir, sizeof(dir))))
		return err_sys(e, ret, "%s/snapshots", root);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", dir, (int)getpid());
	snprintf(h.key, sizeof(h.key), "%s", key);
	h.created = time(NULL);
	if ((ret = mkdir_p(AT_FDCWD, tmp, 0700))) {
		err_sys(e, ret, "%s", tmp);
		goto out;
	}
	if (!vm_pause(m->vm)) {
		ret = err_set(e, -ECANCELED, "the VM ended while it was being paused");
		goto out;
	}
	ret = save_state(m, &b, e);
	if (!ret) {
		file_in(tmp, MEMORY_FILE, path, sizeof(path));
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ret = fd < 0 ? -errno : guest_mem_save(&m->vm->mem, fd);
		if (ret)
			err_sys(e, ret, "%s", path);
	}
	vm_resume(m->vm);
	if (!ret) {
		file_in(tmp, STATE_FILE, path, sizeof(path));
		ret = snap_write(path, &h, &b);
		if (ret)
			err_sys(e, ret, "%s", path);
	}
	/* Another run may have made the same snapshot meanwhile: keep theirs. */
	if (!ret && rename(tmp, dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		ret = err_sys(e, -errno, "%s", dir);
out:
	if (fd >= 0)
		close(fd);
	snapbuf_free(&b);
	if (access(tmp, F_OK) == 0) {
		char sub[4300];

		file_in(tmp, MEMORY_FILE, sub, sizeof(sub));
		unlink(sub);
		file_in(tmp, STATE_FILE, sub, sizeof(sub));
		unlink(sub);
		rmdir(tmp);
	}
	if (!ret)
		dev_info(m->vm->name, "snapshot %.12s saved in %.3f s", key,
			 (machine_uptime_ns(m) - t0) / 1e9);
	return ret;
}

int snapshot_restore(struct machine *m, const char *root, const char *key, struct error *e)
{
	struct vm *vm = m->vm;
	char dir[4096], path[4200];
	struct snap_header h;
	struct snapreader r;
	uint8_t *body = NULL, digest[32];
	const void *want;
	int ret, fd = -1;

	if ((ret = snapshot_dir(root, key, dir, sizeof(dir))) ||
	    (ret = file_in(dir, STATE_FILE, path, sizeof(path))))
		return err_sys(e, ret, "snapshot %.12s", key);
	ret = snap_read(path, key, &h, &body, &r);
	if (ret || h.ncpus != vm->ncpus || h.mem_size != vm->mem.ram_size) {
		ret = err_set(e, -EINVAL, "snapshot %.12s does not match this VM", key);
		goto out;
	}
	/* The memory file must be the one the state was saved with (read, not faulted in). */
	file_in(dir, MEMORY_FILE, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (snapreader_get(&r, "memory.sha256", &want, NULL, 32) || fd < 0 ||
	    guest_mem_file_digest(fd, digest) || memcmp(want, digest, 32)) {
		ret = err_set(e, -EINVAL, "snapshot %.12s: its memory file is corrupt", key);
		goto out;
	}
	ret = x86_vm_restore(vm, &r, e);
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = x86_vcpu_restore(&vm->vcpus[i], &r, e);
	if (!ret && (ret = serial_restore(m->serial, &r)))
		err_sys(e, ret, "serial port");
	if (!ret && (ret = rtc_restore(m->rtc, &r)))
		err_sys(e, ret, "RTC");
	for (unsigned i = 0; !ret && i < m->nvirtio; i++) {
		ret = virtio_mmio_restore(m->virtio[i], &r);
		if (ret == -ENODEV)
			err_set(e, ret, "device %u is not a %s", i, m->virtio[i]->name);
		else if (ret)
			err_sys(e, ret, "device %u (%s)", i, m->virtio[i]->name);
	}
	if (!ret && (ret = pvm_quirks_restore(vm, &r)))
		err_sys(e, ret, "PVM host quirks");
	if (ret) {
		err_wrap(e, ret, "snapshot %.12s could not be restored", key);
		goto out;
	}
	ret = vm_start(vm, e);
out:
	if (fd >= 0)
		close(fd);
	free(body);
	return ret;
}

static int remove_one(const char *dir)
{
	char path[4200];

	file_in(dir, MEMORY_FILE, path, sizeof(path));
	unlink(path);
	file_in(dir, STATE_FILE, path, sizeof(path));
	unlink(path);
	return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

int snapshot_remove(const char *root, const char *key)
{
	char dir[4096], sub[4400];
	struct dirent *de;
	DIR *d;
	int ret = snapshot_dir(root, key, dir, sizeof(dir));

	if (ret)
		return ret;
	if (key)
		return remove_one(dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (remove_one(sub))
			ret = -EBUSY;
	}
	closedir(d);
	return ret;
}
