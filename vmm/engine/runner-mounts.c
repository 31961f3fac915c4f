/*
 * The container's mounts in its VM: an OCI bundle's root folder, and each bind mount and volume, is a shared
 * folder (a virtio-fs device with its own virtiofsd, tagged by slot: the
 * snapshot key counts shares, never paths), mounted by the agent at its
 * target; a tmpfs is made by the agent inside the guest.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest-agent/protocol.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/runner-internal.h"
#include "vmm/engine/volume-disk.h"
#include "vmm/machine/machine.h"

/* A volume of a size: its disk mounted on its _data folder (source) first. */
static int sized_volume(const char *source, struct error *e)
{
	char dir[4096];
	const char *slash = strrchr(source, '/');

	if (!slash || (size_t)(slash - source) >= sizeof(dir))
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - source), source);
	if (!volume_disk_present(dir))
		return 0;
	return volume_disk_mount(dir, e);
}

/* The next shared folder: host_dir at target (for the messages). 0 or -errno with e. */
static int add_share(struct runner *r, const char *host_dir, const char *target, bool read_only,
		     struct error *e)
{
	const struct container_config *c = &r->ct->cfg;
	unsigned n = r->nshares;
	int ret;

	if (n >= MACHINE_MAX_SHARES)
		return err_set(e, -E2BIG, "shared folder %s for %s: at most %d shared folders", host_dir, target,
			       MACHINE_MAX_SHARES);
	/* early and plain, rather than a daemon that exits once the VM is being built */
	if (n == 0 && geteuid() != 0)
		return err_set(e, -EPERM, "shared folder %s for %s: virtiofsd's namespace sandbox needs root; "
			       "run vmm as root (sudo)", host_dir, target);
	if (n == 0 && (ret = machine_find_virtiofsd(c->virtiofsd, r->virtiofsd, sizeof(r->virtiofsd), e)))
		return ret;
	/* The daemons' sockets live beside the control socket. */
	if (n == 0 && (ret = mkdir_p(AT_FDCWD, r->share_dir, 0700)))
		return err_sys(e, ret, "runtime directory %s", r->share_dir);
	snprintf(r->share_tags[n], sizeof(r->share_tags[n]), "vmmfs%u", n);
	if ((size_t)snprintf(r->share_socks[n], sizeof(r->share_socks[n]), "%s/fs%u.sock",
			     r->share_dir, n) >= sizeof(r->share_socks[n]))
		return err_set(e, -ENAMETOOLONG, "runtime directory %s: too long for a socket path",
			       r->paths->runtime);
	r->shares[n] = (struct machine_share_config){
		.tag = r->share_tags[n], .host_dir = host_dir, .read_only = read_only,
		.virtiofsd = r->virtiofsd, .socket_path = r->share_socks[n],
	};
	r->nshares++;
	return 0;
}

/*
 * The machine's shared folders (after describe_machine): an OCI bundle's
 * root folder first (RUNNER_ROOT_TAG), then the mounts'. 0 or -errno with e.
 */
int runner_mounts_config(struct runner *r, struct machine_config *mc, struct error *e)
{
	const struct container_config *c = &r->ct->cfg;
	int ret;

	r->nshares = 0;
	if ((size_t)snprintf(r->share_dir, sizeof(r->share_dir), "%s/%s", r->paths->runtime, c->id) >=
	    sizeof(r->share_dir))
		return err_set(e, -ENAMETOOLONG, "runtime directory %s: too long", r->paths->runtime);
	if (c->rootfs && (ret = add_share(r, c->rootfs, "/", c->read_only, e)))
		return ret;
	for (unsigned i = 0; i < c->nmounts; i++) {
		const struct container_mount *m = &c->mounts[i];

		if (m->type == MOUNT_TMPFS)
			continue;
		if (m->type == MOUNT_VOLUME && (ret = sized_volume(m->source, e)))
			return ret;
		r->share_of[i] = r->nshares;
		if ((ret = add_share(r, m->source, m->target, m->read_only, e)))
			return ret;
	}
	mc->shares = r->shares;
	mc->nshares = r->nshares;
	return 0;
}

/* The agent mounts them before the container starts. */
void runner_mounts_spec(struct runner *r, struct proto_spec *s)
{
	const struct container_config *c = &r->ct->cfg;

	for (unsigned i = 0; i < c->nmounts && i < CONTAINER_MOUNTS_MAX; i++) {
		const struct container_mount *m = &c->mounts[i];
		struct proto_mount *pm = &r->mounts[i];

		*pm = (struct proto_mount){ .target = m->target, .read_only = m->read_only };
		if (m->type == MOUNT_TMPFS) {
			if (m->tmpfs_size)
				snprintf(r->mount_opts[i], sizeof(r->mount_opts[i]), "mode=%o,size=%llu",
					 m->tmpfs_mode ? m->tmpfs_mode : 01777, (unsigned long long)m->tmpfs_size);
			else	/* no size: the guest kernel's default */
				snprintf(r->mount_opts[i], sizeof(r->mount_opts[i]), "mode=%o",
					 m->tmpfs_mode ? m->tmpfs_mode : 01777);
			pm->source = "tmpfs";
			pm->fstype = "tmpfs";
			pm->options = r->mount_opts[i];
		} else {
			pm->source = r->share_tags[r->share_of[i]];
			pm->fstype = "virtiofs";
			/* docker's copy into an empty volume; a read-only share cannot take it */
			pm->copy_up = m->type == MOUNT_VOLUME && !m->nocopy && !m->read_only;
		}
	}
	s->mounts = r->mounts;
	s->nmounts = c->nmounts;
}

void runner_mounts_free(struct runner *r)
{
	/* The control socket's folder, when only the daemons' sockets kept it. */
	if (r->nshares)
		rmdir(r->share_dir);
	r->nshares = 0;
}
