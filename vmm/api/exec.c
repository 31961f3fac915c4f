/*
 * POST /containers/{id}/exec, /exec/{id}/start, GET /exec/{id}/json: the
 * process runs through `vmm exec` as its own process, its stdio the client's
 * hijacked connection (framed as docker frames it without a TTY).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/api/exec.h"
#include "vmm/api/spawn.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"

struct api_exec {
	char id[CONTAINER_ID_LEN + 1];
	char container[CONTAINER_ID_LEN + 1];
	char **args;		/* vmm's arguments: exec [-i] [-t] [-u U] [-w D] [-e K=V]... ID CMD... */
	char **cmd;
	char *user;
	bool tty, in, out, err;
	bool started, running;
	int exit_code;
	pid_t pid;
	int size_wr;		/* a tty exec's window sizes to its vmm exec (--size-fd); -1: none */
	unsigned long rows, cols;	/* a size asked for before it started: given when it does */
	struct api_exec *next;
};

void api_execs_init(struct api_execs *x)
{
	pthread_mutex_init(&x->lock, NULL);
	x->head = NULL;
	x->n = 0;
}

static void exec_free(struct api_exec *x)
{
	if (x->size_wr >= 0)
		close(x->size_wr);
	strv_free(x->args);
	strv_free(x->cmd);
	free(x->user);
	free(x);
}

void api_execs_destroy(struct api_execs *x)
{
	while (x->head) {
		struct api_exec *next = x->head->next;

		exec_free(x->head);
		x->head = next;
	}
	pthread_mutex_destroy(&x->lock);
}

/* Under the lock: the instance id, or NULL. */
static struct api_exec *find(struct api_execs *x, const char *id)
{
	for (struct api_exec *e = x->head; e; e = e->next)
		if (!strcmp(e->id, id))
			return e;
	return NULL;
}

/* Under the lock: add e, forgetting the oldest finished instance when there are too many. */
static void add(struct api_execs *x, struct api_exec *e)
{
	struct api_exec **last = NULL;

	e->next = x->head;
	x->head = e;
	if (++x->n <= API_EXECS_MAX)
		return;
	for (struct api_exec **p = &x->head; *p; p = &(*p)->next)
		if ((*p)->started && !(*p)->running)
			last = p;
	if (last) {
		struct api_exec *gone = *last;

		*last = gone->next;
		exec_free(gone);
		x->n--;
	}
}

/* vmm exec's arguments from the create body. */
static int exec_args(json_object *body, const char *container, struct api_exec *x, struct error *e)
{
	const char *user = NULL, *dir = NULL;
	char **env = NULL;
	bool priv = false;
	int ret;

	if ((ret = jget_strv(body, "Cmd", 4096, "", &x->cmd, e)) || (ret = jget_strv(body, "Env", 4096, "", &env, e)) ||
	    (ret = jget_string(body, "User", false, "", &user, e)) ||
	    (ret = jget_string(body, "WorkingDir", false, "", &dir, e)) ||
	    (ret = jget_bool(body, "Tty", "", &x->tty, e)) || (ret = jget_bool(body, "AttachStdin", "", &x->in, e)) ||
	    (ret = jget_bool(body, "AttachStdout", "", &x->out, e)) ||
	    (ret = jget_bool(body, "AttachStderr", "", &x->err, e)) ||
	    (ret = jget_bool(body, "Privileged", "", &priv, e)))
		goto out;
	if (!x->cmd || !x->cmd[0] || !*x->cmd[0]) {
		ret = err_set(e, -EINVAL, "Cmd: exec needs a command");
		goto out;
	}
	if (priv) {
		ret = err_set(e, -EINVAL, "Privileged: not served: the container runs in its own micro-VM");
		goto out;
	}
	ret = strv_push(&x->args, "exec");
	if (!ret && x->in)
		ret = strv_push(&x->args, "-i");
	if (!ret && x->tty && !(ret = strv_push(&x->args, "-t")) && !(ret = strv_push(&x->args, "--size-fd")))
		ret = strv_push(&x->args, "3");	/* exec_stream's pipe: the sizes of POST /exec/{id}/resize */
	if (!ret && user && *user && !(ret = strv_push(&x->args, "-u")))
		ret = strv_push(&x->args, user);
	if (!ret && dir && *dir && !(ret = strv_push(&x->args, "-w")))
		ret = strv_push(&x->args, dir);
	/* KEY=VALUE only: a bare KEY would be read from the service's own environment */
	for (size_t i = 0; !ret && env && env[i]; i++)
		if (strchr(env[i], '=') && env[i][0] != '=' && !(ret = strv_push(&x->args, "-e")))
			ret = strv_push(&x->args, env[i]);
	if (!ret)
		ret = strv_push(&x->args, container);
	for (size_t i = 0; !ret && x->cmd[i]; i++)
		ret = strv_push(&x->args, x->cmd[i]);
	if (ret)
		ret = err_set(e, -ENOMEM, "out of memory");
	x->user = user && *user ? strdup(user) : NULL;
out:
	strv_free(env);
	return ret;
}

void api_exec_create(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *body = api_body_object(r, w), *o;
	struct api_exec *x = NULL;
	struct container *ct = NULL;
	struct error e = { 0 };

	if (!body)
		return;
	if (container_open(ctx->paths.root, r->args[0], &ct, &e)) {
		api_reply_err(w, &e);
		goto out;
	}
	if (!container_is_running(ct)) {
		api_reply_error(w, 409, "Container %s is not running", r->args[0]);
		goto out;
	}
	if (!(x = calloc(1, sizeof(*x))) || container_new_id(x->id)) {
		api_reply_error(w, 500, "out of memory");
		goto out;
	}
	x->size_wr = -1;
	memcpy(x->container, ct->cfg.id, sizeof(x->container));
	if (exec_args(body, ct->cfg.id, x, &e)) {
		api_reply_err(w, &e);
		goto out;
	}
	pthread_mutex_lock(&ctx->execs->lock);
	add(ctx->execs, x);
	pthread_mutex_unlock(&ctx->execs->lock);
	o = json_object_new_object();
	json_object_object_add(o, "Id", json_object_new_string(x->id));
	api_reply_json(w, 201, o);
	x = NULL;
out:
	if (x)
		exec_free(x);
	container_free(ct);
	json_object_put(body);
}

/* One exec's run, by instance: the service's context and the id (the entry may be forgotten meanwhile). */
struct exec_job {
	const struct api_ctx *ctx;
	char id[CONTAINER_ID_LEN + 1];
	char **args;
	bool tty, in, out, err;
};

static void finish(struct exec_job *j, int code)
{
	struct api_exec *x;

	pthread_mutex_lock(&j->ctx->execs->lock);
	if ((x = find(j->ctx->execs, j->id))) {
		x->running = false;
		x->exit_code = code;
		if (x->size_wr >= 0)
			close(x->size_wr);
		x->size_wr = -1;
	}
	pthread_mutex_unlock(&j->ctx->execs->lock);
}

/* The child runs: its pid, and where its window sizes go (size_wr: ours now, or closed). */
static void started(struct exec_job *j, pid_t pid, int size_wr)
{
	struct api_exec *x;

	pthread_mutex_lock(&j->ctx->execs->lock);
	if ((x = find(j->ctx->execs, j->id))) {
		x->pid = pid;
		x->size_wr = size_wr;
		/* docker exec -it resizes as soon as its stream is up, which may be before this */
		if (size_wr >= 0 && (x->rows || x->cols))
			dprintf(size_wr, "%lu %lu\n", x->rows, x->cols);
	} else if (size_wr >= 0) {
		close(size_wr);
	}
	pthread_mutex_unlock(&j->ctx->execs->lock);
}

/* Frame what comes from the child's stdout (pfd[0]) and stderr (pfd[1]) onto sock until both end. */
static void pump(int sock, int pfd[2])
{
	struct pollfd p[2] = { { .fd = pfd[0], .events = POLLIN }, { .fd = pfd[1], .events = POLLIN } };
	unsigned char buf[8 + 32768];
	bool client = true;

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf + 8, sizeof(buf) - 8);
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				continue;
			}
			memset(buf, 0, 8);
			buf[0] = i + 1;
			buf[4] = n >> 24;
			buf[5] = n >> 16;
			buf[6] = n >> 8;
			buf[7] = n;
			/* a client that left: keep draining so the process is not blocked on a full pipe */
			if (client && write_full(sock, buf, 8 + n) < 0)
				client = false;
		}
	}
}

static void exec_stream(void *arg, int sock)
{
	struct exec_job *j = arg;
	struct error e = { 0 };
	int pfd[2][2] = { { -1, -1 }, { -1, -1 } }, size[2] = { -1, -1 }, fds[4], code = -1;
	pid_t pid;

	/* a tty's window sizes: written by POST /exec/{id}/resize, never blocking it */
	if (j->tty && pipe2(size, O_CLOEXEC) == 0)
		fcntl(size[1], F_SETFL, O_NONBLOCK);
	fds[3] = size[0];
	fds[0] = j->in ? sock : -1;
	if (j->tty) {
		fds[1] = fds[2] = sock;
	} else if (pipe2(pfd[0], O_CLOEXEC) || pipe2(pfd[1], O_CLOEXEC)) {
		goto out;
	} else {
		fds[1] = j->out ? pfd[0][1] : -1;
		fds[2] = j->err ? pfd[1][1] : -1;
	}
	if (api_spawn(j->ctx, j->args, fds, &pid, &e) == 0) {
		started(j, pid, size[1]);
		size[1] = -1;
		for (int i = 0; i < 2; i++) {
			if (pfd[i][1] >= 0)
				close(pfd[i][1]);
			pfd[i][1] = -1;
		}
		if (!j->tty) {
			int rd[2] = { pfd[0][0], pfd[1][0] };

			pump(sock, rd);
			pfd[0][0] = pfd[1][0] = -1;	/* pump closed them */
		}
		code = api_spawn_wait(pid);
	} else if (write_full(sock, e.msg, strlen(e.msg)) == 0) {
		write_full(sock, "\n", 1);
	}
out:
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			if (pfd[i][k] >= 0)
				close(pfd[i][k]);
	for (int k = 0; k < 2; k++)
		if (size[k] >= 0)
			close(size[k]);
	finish(j, code);
}

static void exec_job_free(void *arg)
{
	struct exec_job *j = arg;

	strv_free(j->args);
	free(j);
}

static void *detached_exec(void *arg)
{
	exec_stream(arg, -1);
	exec_job_free(arg);
	return NULL;
}

/* The start's optional ConsoleSize: [rows, cols], the terminal's first size (API 1.42). */
static int console_size(json_object *body, unsigned long size[2], struct error *e)
{
	json_object *cs;

	if (!json_object_object_get_ex(body, "ConsoleSize", &cs) || json_object_is_type(cs, json_type_null))
		return 0;
	if (!json_object_is_type(cs, json_type_array) || json_object_array_length(cs) != 2)
		return err_set(e, -EINVAL, "ConsoleSize: want [rows, cols]");
	for (size_t i = 0; i < 2; i++) {
		json_object *v = json_object_array_get_idx(cs, i);
		int64_t n = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || n < 0 || n > 65535)
			return err_set(e, -EINVAL, "ConsoleSize: want [rows, cols], each 0 to 65535");
		size[i] = (unsigned long)n;
	}
	return 0;
}

void api_exec_start(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *body = r->body_len ? api_body_object(r, w) : json_object_new_object();
	struct exec_job *j;
	struct api_exec *x;
	struct error e = { 0 };
	bool detach = false;
	unsigned long size[2] = { 0, 0 };

	if (!body)
		return;
	if (jget_bool(body, "Detach", "", &detach, &e) || console_size(body, size, &e)) {
		json_object_put(body);
		api_reply_err(w, &e);
		return;
	}
	json_object_put(body);
	if (!(j = calloc(1, sizeof(*j)))) {
		api_reply_error(w, 500, "out of memory");
		return;
	}
	pthread_mutex_lock(&ctx->execs->lock);
	x = find(ctx->execs, r->args[0]);
	if (x && !x->started) {
		x->started = x->running = true;
		j->ctx = ctx;
		memcpy(j->id, x->id, sizeof(j->id));
		j->args = strv_dup(x->args);
		j->tty = x->tty;
		j->in = x->in && !detach;
		j->out = x->out && !detach;
		j->err = x->err && !detach;
		if (size[0] || size[1])
			x->rows = size[0], x->cols = size[1];	/* given when it starts */
		if (!j->args)	/* out of memory: it may be started again */
			x->started = x->running = false;
	}
	pthread_mutex_unlock(&ctx->execs->lock);
	if (!x || !j->ctx || !j->args) {
		if (!x)
			api_reply_error(w, 404, "No such exec instance: %s", r->args[0]);
		else if (!j->ctx)
			api_reply_error(w, 409, "exec instance %s has already been started", r->args[0]);
		else
			api_reply_error(w, 500, "out of memory");
		free(j);
		return;
	}
	if (detach) {	/* the process runs on its own; the reply does not wait for it */
		pthread_attr_t attr;
		pthread_t t;
		int ret;

		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		ret = pthread_create(&t, &attr, detached_exec, j);
		pthread_attr_destroy(&attr);
		if (ret) {
			finish(j, -1);
			exec_job_free(j);
			api_reply_error(w, 500, "exec: no thread to run it");
		} else {
			api_reply_empty(w, 200);
		}
		return;
	}
	w->stream = exec_stream;
	w->stream_free = exec_job_free;
	w->stream_arg = j;
	w->upgrade = true;
	w->status = 101;
	w->content_type = j->tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
}

void api_exec_inspect(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *o, *pc;
	struct api_exec *x;

	pthread_mutex_lock(&ctx->execs->lock);
	if (!(x = find(ctx->execs, r->args[0]))) {
		pthread_mutex_unlock(&ctx->execs->lock);
		api_reply_error(w, 404, "No such exec instance: %s", r->args[0]);
		return;
	}
	o = json_object_new_object();
	pc = json_object_new_object();
	json_object_object_add(o, "ID", json_object_new_string(x->id));
	json_object_object_add(o, "ContainerID", json_object_new_string(x->container));
	json_object_object_add(o, "Running", json_object_new_boolean(x->running));
	json_object_object_add(o, "ExitCode", x->started && !x->running ? json_object_new_int(x->exit_code) : NULL);
	json_object_object_add(o, "Pid", json_object_new_int(x->pid));
	json_object_object_add(o, "OpenStdin", json_object_new_boolean(x->in));
	json_object_object_add(o, "OpenStdout", json_object_new_boolean(x->out));
	json_object_object_add(o, "OpenStderr", json_object_new_boolean(x->err));
	json_object_object_add(o, "CanRemove", json_object_new_boolean(false));
	json_object_object_add(pc, "tty", json_object_new_boolean(x->tty));
	json_object_object_add(pc, "entrypoint", json_object_new_string(x->cmd[0]));
	json_object_object_add(pc, "arguments", strv_to_json(x->cmd + 1));
	json_object_object_add(pc, "privileged", json_object_new_boolean(false));
	json_object_object_add(pc, "user", json_object_new_string(x->user ? x->user : ""));
	json_object_object_add(o, "ProcessConfig", pc);
	pthread_mutex_unlock(&ctx->execs->lock);
	api_reply_json(w, 200, o);
}

void api_exec_resize(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *hs = r->query(r, "h"), *ws = r->query(r, "w");
	unsigned long h = 0, wd = 0;
	char *end1 = NULL, *end2 = NULL;
	struct api_exec *x;

	if (hs && ws) {
		h = strtoul(hs, &end1, 10);
		wd = strtoul(ws, &end2, 10);
	}
	if (!hs || !ws || !*hs || !*ws || *end1 || *end2 || h > 65535 || wd > 65535) {
		api_reply_error(w, 400, "resize: want h and w, the rows and columns (0 to 65535)");
		return;
	}
	pthread_mutex_lock(&ctx->execs->lock);
	x = find(ctx->execs, r->args[0]);
	if (x && x->size_wr >= 0)	/* one short line: a pipe takes it whole or not at all */
		dprintf(x->size_wr, "%lu %lu\n", h, wd);
	else if (x)
		x->rows = h, x->cols = wd;	/* not started yet: started() gives it */
	pthread_mutex_unlock(&ctx->execs->lock);
	if (!x)
		api_reply_error(w, 404, "No such exec instance: %s", r->args[0]);
	else
		api_reply_empty(w, 200);
}
