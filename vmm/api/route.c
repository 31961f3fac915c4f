/* The Engine API's routes: versioned paths matched against a table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"

static const struct api_route routes[] = {
	{ "GET", "/_ping", api_ping, 0 },
	{ "HEAD", "/_ping", api_ping, 0 },
	{ "GET", "/version", api_version, 0 },
	{ "GET", "/info", api_info, 0 },
	{ "GET", "/events", api_events, 0 },
	{ "POST", "/auth", api_auth, 0 },
	{ "GET", "/containers/json", api_containers_list, 0 },
	{ "POST", "/containers/create", api_container_create, 0 },
	{ "POST", "/containers/prune", api_containers_prune, 0 },
	{ "GET", "/containers/{}/json", api_container_inspect, 0 },
	{ "POST", "/containers/{}/start", api_container_start, 0 },
	{ "POST", "/containers/{}/stop", api_container_stop, 0 },
	{ "POST", "/containers/{}/restart", api_container_restart, 0 },
	{ "POST", "/containers/{}/kill", api_container_kill, 0 },
	{ "POST", "/containers/{}/pause", api_container_pause, 0 },
	{ "POST", "/containers/{}/unpause", api_container_unpause, 0 },
	{ "POST", "/containers/{}/wait", api_container_wait, 0 },
	{ "POST", "/containers/{}/rename", api_container_rename, 0 },
	{ "GET", "/containers/{}/logs", api_container_logs, 0 },
	{ "GET", "/containers/{}/top", api_container_top, 0 },
	{ "GET", "/containers/{}/stats", api_container_stats, 0 },
	{ "GET", "/containers/{}/changes", api_container_changes, 0 },
	{ "GET", "/containers/{}/export", api_container_export, 0 },
	{ "POST", "/containers/{}/attach", api_container_attach, 0 },
	{ "GET", "/containers/{}/archive", api_container_archive_get, 0 },
	{ "HEAD", "/containers/{}/archive", api_container_archive_get, 0 },
	{ "PUT", "/containers/{}/archive", api_container_archive_put, API_ROUTE_UPLOAD },
	{ "DELETE", "/containers/{}", api_container_delete, 0 },
	{ "POST", "/containers/{}/exec", api_exec_create, 0 },
	{ "POST", "/exec/{}/start", api_exec_start, 0 },
	{ "POST", "/exec/{}/resize", api_exec_resize, 0 },
	{ "GET", "/exec/{}/json", api_exec_inspect, 0 },
	{ "GET", "/images/json", api_images_list, 0 },
	{ "GET", "/images/{*}/json", api_image_inspect, 0 },
	{ "GET", "/images/{*}/history", api_image_history, 0 },
	{ "POST", "/images/{*}/tag", api_image_tag, 0 },
	{ "POST", "/images/create", api_image_pull, API_ROUTE_UPLOAD },
	{ "POST", "/build", api_build, API_ROUTE_UPLOAD },
	{ "POST", "/commit", api_commit, 0 },
	{ "POST", "/images/{*}/push", api_image_push, 0 },
	{ "POST", "/images/prune", api_images_prune, 0 },
	{ "GET", "/images/get", api_images_save, 0 },
	{ "POST", "/images/load", api_images_load, API_ROUTE_UPLOAD },
	{ "GET", "/images/{*}/get", api_image_save, 0 },
	{ "DELETE", "/images/{*}", api_image_delete, 0 },
	{ "GET", "/volumes", api_volumes_list, 0 },
	{ "POST", "/volumes/create", api_volume_create, 0 },
	{ "POST", "/volumes/prune", api_volumes_prune, 0 },
	{ "GET", "/volumes/{}", api_volume_inspect, 0 },
	{ "DELETE", "/volumes/{}", api_volume_delete, 0 },
	{ "GET", "/networks", api_networks_list, 0 },
	{ "POST", "/networks/create", api_network_create, 0 },
	{ "POST", "/networks/prune", api_networks_prune, 0 },
	{ "GET", "/networks/{}", api_network_inspect, 0 },
	{ "DELETE", "/networks/{}", api_network_delete, 0 },
	{ "POST", "/networks/{}/connect", api_network_connect, 0 },
	{ "POST", "/containers/{}/resize", api_container_resize, 0 },
	{ "POST", "/containers/{}/update", api_container_update, 0 },
	{ "POST", "/networks/{}/disconnect", api_network_disconnect, 0 },
};

int api_split_version(const char *url, const char **path, char ver[16], struct error *e)
{
	unsigned major, minor;
	const char *p = url, *end;
	int n = 0;

	ver[0] = 0;
	*path = url;
	if (strncmp(url, "/v", 2) || url[2] < '0' || url[2] > '9')
		return 0;
	end = strchr(url + 1, '/');
	if (!end)
		end = url + strlen(url);
	if (end - url > 12 || sscanf(p + 2, "%u.%u%n", &major, &minor, &n) != 2 || p + 2 + n != end)
		return err_set(e, -EINVAL, "%.*s: not an API version (like /v1.41)", (int)(end - url), url);
	snprintf(ver, 16, "%u.%u", major, minor);
	if (major != 1 || minor < 24 || minor > 41)
		return err_set(e, -ERANGE, "client version %s is not served: this is API %s (oldest %s)", ver,
			       API_VERSION, API_MIN_VERSION);
	*path = *end ? end : "/";
	return 0;
}

/* The length of the segment at s (up to '/' or the end). */
static size_t seg_len(const char *s)
{
	return strcspn(s, "/");
}

/* How many '/'-separated segments follow in pattern p (p at a '/'). */
static unsigned segs_left(const char *p)
{
	unsigned n = 0;

	for (; *p; p++)
		n += *p == '/';
	return n;
}

/* Copy n bytes of s into the buffer as the next argument. */
static bool take_arg(const char *s, size_t n, char **buf, size_t *len, const char *args[API_ARGS_MAX],
		     unsigned *nargs)
{
	if (!n || n + 1 > *len || *nargs >= API_ARGS_MAX)
		return false;
	memcpy(*buf, s, n);
	(*buf)[n] = 0;
	args[(*nargs)++] = *buf;
	*buf += n + 1;
	*len -= n + 1;
	return true;
}

bool api_route_match(const char *pattern, const char *path, char *buf, size_t len,
		     const char *args[API_ARGS_MAX])
{
	const char *p = pattern, *s = path;
	unsigned nargs = 0;

	memset(args, 0, sizeof(*args) * API_ARGS_MAX);
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++, s++;
		if (!strncmp(p, "{*}", 3)) {
			/* As many segments as leave one for each literal after it. */
			unsigned after = segs_left(p + 3), have = 0;
			const char *end = s + strlen(s);

			while (end > s && have < after) {
				end--;
				have += *end == '/';
			}
			if (have < after || end <= s)
				return false;
			if (!take_arg(s, end - s, &buf, &len, args, &nargs))
				return false;
			p += 3, s = end;
			continue;
		}
		if (!strncmp(p, "{}", 2)) {
			if (!take_arg(s, seg_len(s), &buf, &len, args, &nargs))
				return false;
			p += 2, s += seg_len(s);
			continue;
		}
		if (seg_len(p) != seg_len(s) || strncmp(p, s, seg_len(p)))
			return false;
		p += seg_len(p), s += seg_len(s);
	}
	if (!strcmp(s, "/"))	/* a trailing slash is the same path */
		s++;
	return !*p && !*s;
}

const struct api_route *api_route_find(const char *method, const char *path, char *buf, size_t len,
				       const char *args[API_ARGS_MAX], bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!api_route_match(routes[i].pattern, path, buf, len, args))
			continue;
		if (!strcmp(routes[i].method, method))
			return &routes[i];
		*path_known = true;
	}
	return NULL;
}
