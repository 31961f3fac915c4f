/* vmm oci start, state, kill, delete and ps (oci.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/oci/oci.h"

int oci_open(const struct oci_cli *o, const char *id, struct container **ct, struct error *e)
{
	int ret = container_open(o->paths.root, id, ct, e);

	if (ret == -ENOENT || (!ret && strcmp((*ct)->cfg.name, id))) {
		if (!ret)
			container_free(*ct);
		*ct = NULL;
		err_clear(e);
		return err_set(e, -ENOENT, "container %.128s does not exist", id);
	}
	return ret;
}

/* created, running or stopped: the runtime spec's words for the engine's state. */
static const char *status_of(const struct container *ct, int *pid)
{
	*pid = 0;
	if (!container_is_running(ct))
		return "stopped";
	*pid = ct->state.pid;
	if (ct->state.status == CONTAINER_CREATED)
		return "created";
	return ct->state.paused ? "paused" : "running";
}

json_object *oci_state_json(const struct container *ct)
{
	json_object *o = json_object_new_object();
	int pid;
	const char *status = status_of(ct, &pid);

	json_object_object_add(o, "ociVersion", json_object_new_string(OCI_SPEC_VERSION));
	json_object_object_add(o, "id", json_object_new_string(ct->cfg.name));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(o, "bundle", json_object_new_string(ct->cfg.image_name ? ct->cfg.image_name : ""));
	json_object_object_add(o, "annotations", json_object_new_object());
	return o;
}

/* The ID, the one argument after the options getopt read. */
static const char *one_id(struct oci_cli *o, int argc, char **argv, const char *usage)
{
	if (optind + 1 != argc) {
		oci_fail(o, "want one container ID (%s)", usage);
		return NULL;
	}
	return argv[optind];
}

/* A verb without options: its one argument, the ID (an option given is refused). */
static const char *id_only(struct oci_cli *o, int argc, char **argv, const char *usage)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };

	optind = 1;
	if (getopt_long(argc, argv, "+", none, NULL) != -1) {
		oci_fail(o, "%s: unknown option (%s)", argv[optind - 1], usage);
		return NULL;
	}
	return one_id(o, argc, argv, usage);
}

int oci_start(struct oci_cli *o, int argc, char **argv)
{
	const char *id = id_only(o, argc, argv, "start ID");
	struct container *ct = NULL;
	struct error e = { 0 };
	struct oci_spec spec;
	json_object *req, *reply = NULL, *state;
	char eid[CONTAINER_ID_LEN + 1];
	int fd = -1, ret;

	if (!id)
		return 1;
	if ((ret = oci_open(o, id, &ct, &e)))
		return oci_fail(o, "%s", e.msg);
	if (!container_is_running(ct) || ct->state.status != CONTAINER_CREATED) {
		ret = oci_fail(o, "container %s is %s, not created: it cannot start", id,
			       container_is_running(ct) ? "running" : "stopped");
		container_free(ct);
		return ret;
	}
	snprintf(eid, sizeof(eid), "%s", ct->cfg.id);
	container_free(ct);
	ct = NULL;
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("start"));
	ret = engine_connect(&o->paths, eid, &ct, &fd, &e);
	if (!ret)
		ret = engine_call(fd, req, NULL, 0, &reply, &e);
	else
		json_object_put(req);
	if (fd >= 0)
		close(fd);
	json_object_put(reply);
	/* poststart: reported, not fatal (the process runs); the state as start left it */
	if (!ret && ct && !container_reload_state(ct) && !oci_bundle_spec(ct->cfg.image_name, &spec, &e)) {
		state = oci_state_json(ct);
		if (oci_hooks_run(&spec, OCI_HOOK_POSTSTART, state, &e))
			oci_fail(o, "%s", e.msg);
		json_object_put(state);
		oci_spec_free(&spec);
		err_clear(&e);
	}
	container_free(ct);
	return ret ? oci_fail(o, "%s", e.msg) : 0;
}

int oci_state(struct oci_cli *o, int argc, char **argv)
{
	const char *id = id_only(o, argc, argv, "state ID");
	struct container *ct = NULL;
	struct error e = { 0 };
	json_object *state;

	if (!id)
		return 1;
	if (oci_open(o, id, &ct, &e))
		return oci_fail(o, "%s", e.msg);
	state = oci_state_json(ct);
	printf("%s\n", json_object_to_json_string_ext(state, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(state);
	container_free(ct);
	return 0;
}

/* pause and resume: the VM's vCPUs parked, or let go (runc freezes the cgroup). */
static int pause_verb(struct oci_cli *o, int argc, char **argv, bool pause)
{
	const char *id = id_only(o, argc, argv, pause ? "pause ID" : "resume ID");
	struct container *ct = NULL;
	struct error e = { 0 };
	int ret;

	if (!id)
		return 1;
	if ((ret = oci_open(o, id, &ct, &e)))
		return oci_fail(o, "%s", e.msg);
	if (!container_is_running(ct) || ct->state.status == CONTAINER_CREATED)
		ret = err_set(&e, -ESRCH, "container %s is not running", id);
	else if ((ret = engine_pause(&o->paths, ct->cfg.id, pause, &e)) == -EBUSY)
		err_set(&e, ret, "container %s is %s", id, pause ? "paused already" : "not paused");
	container_free(ct);
	return ret ? oci_fail(o, "%s", e.msg) : 0;
}

int oci_pause(struct oci_cli *o, int argc, char **argv)
{
	return pause_verb(o, argc, argv, true);
}

int oci_resume(struct oci_cli *o, int argc, char **argv)
{
	return pause_verb(o, argc, argv, false);
}

int oci_kill(struct oci_cli *o, int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
	struct container *ct = NULL;
	struct error e = { 0 };
	const char *id;
	int sig = SIGTERM, ret, ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+a", opts, NULL)) != -1)
		if (ch != 'a')	/* --all: the VM's processes go with its main one */
			return oci_fail(o, "kill: %s: unknown option", argv[optind - 1]);
	if (optind >= argc || argc - optind > 2)
		return oci_fail(o, "want a container ID and a signal (kill ID [SIGNAL])");
	id = argv[optind];
	if (argc - optind == 2 && (sig = parse_signal(argv[optind + 1])) <= 0)
		return oci_fail(o, "kill: signal %.32s: want a name (TERM, SIGKILL) or a number", argv[optind + 1]);
	if ((ret = oci_open(o, id, &ct, &e)))
		return oci_fail(o, "%s", e.msg);
	if (!container_is_running(ct))
		ret = err_set(&e, -ESRCH, "container %s is not running", id);
	else
		ret = engine_kill(&o->paths, ct->cfg.id, sig, &e);
	container_free(ct);
	return ret ? oci_fail(o, "%s", e.msg) : 0;
}

int oci_remove(const struct oci_cli *o, struct container *ct)
{
	char dir[4096];
	int ret = container_remove(ct);

	/* its control socket's folder, which a killed vmm process leaves */
	if (!ret && (size_t)snprintf(dir, sizeof(dir), "%s/%s", o->paths.runtime, ct->cfg.id) < sizeof(dir))
		remove_tree(AT_FDCWD, dir);
	return ret;
}

int oci_delete(struct oci_cli *o, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	struct container *ct = NULL;
	struct error e = { 0 };
	struct oci_spec spec;
	bool force = false;
	json_object *state;
	const char *id;
	int ret, ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (ch != 'f')
			return oci_fail(o, "delete: %s: unknown option", argv[optind - 1]);
		force = true;
	}
	if (!(id = one_id(o, argc, argv, "delete [--force] ID")))
		return 1;
	if ((ret = oci_open(o, id, &ct, &e)))
		return oci_fail(o, "%s", e.msg);
	/* runc deletes a created container without --force: it never ran */
	if (container_is_running(ct) && ct->state.status != CONTAINER_CREATED && !force) {
		container_free(ct);
		return oci_fail(o, "container %s is running: stop it first, or delete --force", id);
	}
	if (container_is_running(ct) && (ret = container_kill(ct)))
		err_sys(&e, ret, "container %s: cannot stop its vmm process", id);
	if (!ret && (ret = oci_remove(o, ct)))
		err_sys(&e, ret, "container %s: cannot remove %s", id, ct->dir);
	if (!ret && !oci_bundle_spec(ct->cfg.image_name, &spec, &e)) {
		state = oci_state_json(ct);
		if (oci_hooks_run(&spec, OCI_HOOK_POSTSTOP, state, &e))
			oci_fail(o, "%s", e.msg);	/* reported; the container is gone all the same */
		json_object_put(state);
		oci_spec_free(&spec);
	}
	container_free(ct);
	return ret ? oci_fail(o, "%s", e.msg) : 0;
}

struct ps_out {
	bool json;
	unsigned n;
};

static void ps_one(void *arg, const struct engine_proc *p)
{
	struct ps_out *out = arg;
	struct engine_proc_text t;

	if (out->json) {
		printf("%s%d", out->n++ ? "," : "", p->pid);
		return;
	}
	engine_proc_text(p, &t);
	printf("%-12s %-8d %-10s %s\n", t.user, p->pid, t.time, t.cmd);
}

int oci_ps(struct oci_cli *o, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	struct ps_out out = { 0 };
	struct container *ct = NULL;
	struct error e = { 0 };
	const char *id;
	int ret, ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (ch != 'f' || (strcmp(optarg, "table") && strcmp(optarg, "json")))
			return oci_fail(o, "ps: %s: want --format table or json", argv[optind - 1]);
		out.json = !strcmp(optarg, "json");
	}
	if (!(id = one_id(o, argc, argv, "ps [--format table|json] ID")))
		return 1;
	if ((ret = oci_open(o, id, &ct, &e)))
		return oci_fail(o, "%s", e.msg);
	/* the guest's processes, by their pids in the guest: none is a host process */
	if (out.json)
		printf("[");
	else
		printf("%-12s %-8s %-10s %s\n", "UID", "PID", "TIME", "CMD");
	ret = engine_top(&o->paths, ct->cfg.id, ps_one, &out, &e);
	if (out.json)
		printf("]\n");
	container_free(ct);
	return ret ? oci_fail(o, "%s", e.msg) : 0;
}
