/* A new container's mounts (see mounts.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/oci/spec.h"
#include "vmm/base/util.h"
#include "vmm/engine/mounts.h"
#include "vmm/engine/volume.h"
#include "vmm/machine/machine.h"

static int add(struct container_config *cc, const struct container_mount *m, struct error *e)
{
	struct container_mount *grown;

	for (unsigned i = 0; i < cc->nmounts; i++)
		if (!strcmp(cc->mounts[i].target, m->target))
			return err_set(e, -EINVAL, "Duplicate mount point: %s", m->target);
	if (cc->nmounts == CONTAINER_MOUNTS_MAX)
		return err_set(e, -E2BIG, "at most %d mounts per container", CONTAINER_MOUNTS_MAX);
	grown = realloc(cc->mounts, (cc->nmounts + 1) * sizeof(*grown));
	if (!grown)
		return err_set(e, -ENOMEM, "out of memory");
	cc->mounts = grown;
	cc->mounts[cc->nmounts] = *m;
	cc->mounts[cc->nmounts].name = m->name ? strdup(m->name) : NULL;
	cc->mounts[cc->nmounts].source = m->source ? strdup(m->source) : NULL;
	cc->mounts[cc->nmounts].target = strdup(m->target);
	cc->mounts[cc->nmounts].spec = m->spec ? strdup(m->spec) : NULL;
	if (!cc->mounts[cc->nmounts++].target || (m->spec && !cc->mounts[cc->nmounts - 1].spec))
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

/* A bind source: a folder (virtio-fs shares folders), or missing when -v will make it. */
static int check_bind(const struct mount_spec *s, struct error *e)
{
	struct stat st;

	if (stat(s->source, &st) < 0) {
		if (errno == ENOENT && s->create_source)
			return 0;
		if (errno == ENOENT)
			return err_set(e, -ENOENT, "invalid mount config for type \"bind\": bind source path "
				       "does not exist: %s", s->source);
		return err_sys(e, -errno, "bind source %s", s->source);
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(e, -ENOTDIR, "bind source %s is not a folder: vmm shares folders with the "
			       "VM (mount its folder instead)", s->source);
	return 0;
}

static int from_spec(const struct mount_spec *s, struct container_config *cc, struct error *e)
{
	struct container_mount m = {
		.type = s->type, .target = s->target, .read_only = s->read_only, .nocopy = s->nocopy,
		.tmpfs_size = s->tmpfs_size, .tmpfs_mode = s->tmpfs_mode, .flag = s->flag, .spec = s->spec,
	};
	int ret;

	if (s->type == MOUNT_BIND) {
		if ((ret = check_bind(s, e)))
			return ret;
		m.source = s->source;
	} else if (s->type == MOUNT_VOLUME) {
		if (s->volume_opts[0])
			return err_set(e, -EINVAL, "volume-opt=%s: give it when making the volume: vmm volume "
				       "create --opt %s %s", s->volume_opts[0], s->volume_opts[0],
				       s->source ? s->source : "NAME");
		m.name = s->source;	/* NULL: anonymous, named when made */
		m.anonymous = !s->source;
	}
	return add(cc, &m, e);
}

/* --volumes-from CONTAINER[:ro|:rw]: its volumes and bind mounts, at the same places. */
static int from_container(const struct paths *p, const char *arg, struct container_config *cc,
			  struct error *e)
{
	char ref[256];
	const char *colon = strrchr(arg, ':');
	struct container *src;
	int ret = 0, mode = -1;

	snprintf(ref, sizeof(ref), "%s", arg);
	if (colon && (!strcmp(colon, ":ro") || !strcmp(colon, ":rw"))) {
		ref[colon - arg] = 0;
		mode = colon[2] == 'o';
	} else if (colon) {
		return err_set(e, -EINVAL, "--volumes-from %s: invalid mode: %s (use ro or rw)", arg, colon + 1);
	}
	if ((ret = container_open(p->root, ref, &src, e)))
		return err_wrap(e, ret, "--volumes-from");
	for (unsigned i = 0; !ret && i < src->cfg.nmounts; i++) {
		struct container_mount m = src->cfg.mounts[i];

		if (m.type == MOUNT_TMPFS)
			continue;	/* a tmpfs is the other container's own memory */
		m.anonymous = false;	/* shared: it goes with its owner, not with us */
		m.flag = MOUNT_FLAG_NONE;	/* docker shows them under VolumesFrom, not as ours */
		m.spec = NULL;
		m.image_volume = false;
		if (mode >= 0)
			m.read_only = mode;
		ret = add(cc, &m, e);
	}
	container_free(src);
	return ret;
}

int engine_mounts_plan(const struct paths *p, const struct mount_spec *specs, unsigned nspecs,
		       char *const *volumes_from, const char *virtiofsd, const struct image_config *ic,
		       struct container_config *cc, struct error *e)
{
	unsigned shares = 0;
	char fsd[4096];
	int ret = 0;

	for (unsigned i = 0; !ret && i < nspecs; i++)
		ret = from_spec(&specs[i], cc, e);
	for (size_t i = 0; !ret && volumes_from && volumes_from[i]; i++)
		ret = from_container(p, volumes_from[i], cc, e);
	/* The image's VOLUMEs that no mount covers become anonymous volumes, as docker does. */
	for (size_t i = 0; !ret && ic && ic->volumes && ic->volumes[i]; i++) {
		struct mount_spec s;
		bool covered = false;

		if (mount_parse_volume(ic->volumes[i], &s, e)) {
			ret = err_wrap(e, -EINVAL, "the image's VOLUME %s", ic->volumes[i]);
			break;
		}
		for (unsigned j = 0; j < cc->nmounts && !covered; j++)
			if ((covered = !strcmp(cc->mounts[j].target, s.target)))
				cc->mounts[j].image_volume = true;
		if (!covered && !(ret = from_spec(&s, cc, e)))
			cc->mounts[cc->nmounts - 1].image_volume = true;
		mount_spec_free(&s);
	}
	for (unsigned i = 0; i < cc->nmounts; i++)
		shares += cc->mounts[i].type != MOUNT_TMPFS;
	if (!ret && shares > MACHINE_MAX_SHARES)
		ret = err_set(e, -E2BIG, "%u shared folders: at most %d per container", shares, MACHINE_MAX_SHARES);
	if (!ret && (shares || virtiofsd))
		ret = machine_find_virtiofsd(virtiofsd, fsd, sizeof(fsd), e);
	if (!ret && virtiofsd && !(cc->virtiofsd = realpath(fsd, NULL)))
		ret = err_sys(e, -errno, "--virtiofsd %s", virtiofsd);
	return ret;
}

/* The length of path's first component that does not exist (the first folder mkdir_p makes), 0: none. */
static size_t first_missing(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	struct stat st;

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (lstat(buf, &st) < 0 && errno == ENOENT)
			return i;
		buf[i] = path[i];
	}
	return 0;
}

static int made_dir(struct mounts_made *made, const char *path, size_t top, struct error *e)
{
	if (!top)
		return 0;
	if (!(made->dirs[made->ndirs] = strdup(path)))
		return err_set(e, -ENOMEM, "out of memory");
	made->dir_top[made->ndirs++] = top;
	return 0;
}

int engine_mounts_make(const struct paths *p, struct container_config *cc, struct mounts_made *made,
		       struct error *e)
{
	int ret = 0;

	memset(made, 0, sizeof(*made));
	for (unsigned i = 0; !ret && i < cc->nmounts; i++) {
		struct container_mount *m = &cc->mounts[i];
		struct volume_create_opts o = { .name = m->name, .anonymous = m->anonymous };
		struct volume v;
		bool existed;

		if (m->type == MOUNT_BIND) {
			/* -v creates a missing host folder, as docker does. */
			size_t top = first_missing(m->source);

			if ((ret = mkdir_p(AT_FDCWD, m->source, 0755)))
				ret = err_sys(e, ret, "bind source %s", m->source);
			if (!ret)
				ret = made_dir(made, m->source, top, e);
			continue;
		}
		if (m->type != MOUNT_VOLUME || m->source)
			continue;
		existed = m->name && volume_get(p->root, m->name, &v, NULL) == 0;
		if (existed)
			volume_free(&v);
		if ((ret = volume_create(p->root, &o, &v, e)))
			break;
		free(m->name);
		m->name = strdup(v.name);
		m->source = strdup(v.mountpoint);
		if (!existed && !(made->volumes[made->nvolumes++] = strdup(v.name)))
			ret = err_set(e, -ENOMEM, "out of memory");
		volume_free(&v);
		if (!ret && (!m->name || !m->source))
			ret = err_set(e, -ENOMEM, "out of memory");
	}
	if (ret)
		engine_mounts_undo(p, made);
	return ret;
}

void engine_mounts_undo(const struct paths *p, struct mounts_made *made)
{
	for (unsigned i = made->nvolumes; i-- > 0; )
		if (made->volumes[i])
			volume_remove(p->root, made->volumes[i], NULL);
	/* newest first, each from its leaf up to the first folder this call made; rmdir takes only empty ones */
	for (unsigned i = made->ndirs; i-- > 0; ) {
		char *d = made->dirs[i], *slash;

		while (rmdir(d) == 0 && strlen(d) > made->dir_top[i] && (slash = strrchr(d, '/')))
			*slash = '\0';
	}
	engine_mounts_made_free(made);
}

void engine_mounts_made_free(struct mounts_made *made)
{
	for (unsigned i = 0; i < made->nvolumes; i++)
		free(made->volumes[i]);
	for (unsigned i = 0; i < made->ndirs; i++)
		free(made->dirs[i]);
	memset(made, 0, sizeof(*made));
}

void engine_mounts_drop_anonymous(const struct paths *p, const struct container_config *cc)
{
	for (unsigned i = 0; i < cc->nmounts; i++)
		if (cc->mounts[i].type == MOUNT_VOLUME && cc->mounts[i].anonymous && cc->mounts[i].name)
			volume_remove(p->root, cc->mounts[i].name, NULL);
}
