/*
 * Users and groups from the image's /etc/passwd and /etc/group, as docker
 * resolves `--user`: "name", "uid", "uid:gid", "name:group". A numeric uid
 * missing from passwd is accepted (gid 0, HOME /); a missing name is an
 * error. Supplementary groups: the groups listing the user, plus extras.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "guest-agent/agent.h"

#define DB_MAX	(256 * 1024)	/* larger passwd/group files are read in part */

/* Split a colon-separated line into at most n fields; the field count. */
static int fields(char *line, char **f, int n)
{
	int k = 0;

	f[k++] = line;
	for (char *p = line; *p && k < n; p++) {
		if (*p == ':') {
			*p = 0;
			f[k++] = p + 1;
		}
	}
	return k;
}

static bool is_number(const char *s, uint64_t *v)
{
	return parse_uint(s, 0, UINT64_MAX, v) == 0 && *v < 0xffffffffULL;
}

/* Walk a database file line by line; fn returns true to stop. */
static void walk(int dirfd, const char *path, bool (*fn)(char **f, int n, void *arg), void *arg)
{
	char *db = malloc(DB_MAX), *line, *next;

	if (!db || read_text(dirfd, path, db, DB_MAX) < 0) {
		free(db);
		return;
	}
	for (line = db; line && *line; line = next) {
		char *f[7];
		int n;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (*line == '#' || !*line)
			continue;
		n = fields(line, f, 7);
		if (fn(f, n, arg))
			break;
	}
	free(db);
}

struct pw_query {
	const char *name;	/* by name, or */
	uid_t uid;		/* by uid when name is NULL */
	bool found;
	struct user_info *u;
};

static bool pw_match(char **f, int n, void *arg)
{
	struct pw_query *q = arg;
	uint64_t uid, gid;

	if (n < 4 || !is_number(f[2], &uid) || !is_number(f[3], &gid))
		return false;
	if (q->name ? strcmp(f[0], q->name) : uid != q->uid)
		return false;
	q->u->uid = uid;
	q->u->gid = gid;
	scat(q->u->name, sizeof(q->u->name), f[0], NULL);
	scat(q->u->home, sizeof(q->u->home), n >= 6 && *f[5] ? f[5] : "/", NULL);
	q->found = true;
	return true;
}

struct gr_query {
	const char *name;	/* a group by name (result in gid), or */
	gid_t gid;
	bool found;
	const char *member;	/* collect groups listing this user */
	struct user_info *u;
};

static void add_group(struct user_info *u, gid_t g)
{
	for (int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return;
	if (u->ngroups < MAX_GROUPS)
		u->groups[u->ngroups++] = g;
}

static bool gr_match(char **f, int n, void *arg)
{
	struct gr_query *q = arg;
	uint64_t gid;

	if (n < 3 || !is_number(f[2], &gid))
		return false;
	if (q->name) {
		if (strcmp(f[0], q->name))
			return false;
		q->gid = gid;
		q->found = true;
		return true;
	}
	if (n >= 4 && q->member) {
		for (char *m = strtok(f[3], ","); m; m = strtok(NULL, ","))
			if (!strcmp(m, q->member))
				add_group(q->u, gid);
	}
	return false;
}

static int group_id(const char *g, gid_t *gid)
{
	struct gr_query q = { .name = g };
	uint64_t v;

	if (is_number(g, &v)) {
		*gid = v;
		return 0;
	}
	walk(AT_FDCWD, "/etc/group", gr_match, &q);
	if (!q.found)
		return -ENOENT;
	*gid = q.gid;
	return 0;
}

int user_resolve(const char *spec, char *const *extra, unsigned nextra, struct user_info *u,
		 struct error *e)
{
	char user[256], *group;
	struct pw_query pq = { .u = u };
	struct gr_query gq = { .u = u };
	uint64_t v;

	memset(u, 0, sizeof(*u));
	scat(u->home, sizeof(u->home), "/", NULL);
	scat(user, sizeof(user), spec && *spec ? spec : "0", NULL);
	group = strchr(user, ':');
	if (group)
		*group++ = 0;
	if (is_number(user, &v)) {
		pq.uid = v;
		walk(AT_FDCWD, "/etc/passwd", pw_match, &pq);
		u->uid = v;	/* an unknown numeric uid is fine: gid 0, HOME / */
	} else {
		pq.name = user;
		walk(AT_FDCWD, "/etc/passwd", pw_match, &pq);
		if (!pq.found) {
			return err_cat(e, -ENOENT, "unable to find user ", user, ": no matching entries in passwd file",
			     NULL);
		}
	}
	if (group && group_id(group, &u->gid)) {
		return err_cat(e, -ENOENT, "unable to find group ", group, ": no matching entries in group file", NULL);
	}
	if (pq.found) {
		gq.member = u->name;
		walk(AT_FDCWD, "/etc/group", gr_match, &gq);
	}
	for (unsigned i = 0; i < nextra; i++) {
		gid_t g;

		if (group_id(extra[i], &g)) {
			return err_cat(e, -ENOENT, "unable to find group ", extra[i], NULL);
		}
		add_group(u, g);
	}
	return 0;
}

const char *user_name(int dirfd, uid_t uid, char *buf, size_t len)
{
	struct user_info u;
	struct pw_query q = { .uid = uid, .u = &u };

	walk(dirfd, "etc/passwd", pw_match, &q);
	if (q.found)
		scat(buf, len, u.name, NULL);
	else
		utoa(uid, buf);
	return buf;
}
