/* events_journal_read (engine/events-journal.c): the store's journal of removed containers, malformed lines included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/engine/events-journal.h"

static char got[1024];

static int collect(void *arg, const struct engine_event *ev)
{
	size_t n = strlen(got);

	(void)arg;
	snprintf(got + n, sizeof(got) - n, "%s%s:%s:%d:%s", n ? " " : "", ev->action, ev->name, ev->exit_code,
		 ev->labels && ev->labels[0] ? ev->labels[0] : "-");
	return 0;
}

static int stop(void *arg, const struct engine_event *ev)
{
	(void)arg;
	(void)ev;
	return -1;
}

int main(void)
{
	char dir[] = "/tmp/vmm-journal-XXXXXX", path[256], cmd[300];
	char longline[20000];
	FILE *f;

	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof(path), "%s/events.journal.1", dir);
	f = fopen(path, "w");
	fprintf(f, "{\"time_ns\":100,\"action\":\"create\",\"id\":\"a\",\"name\":\"old\",\"image\":\"i\",\"exit\":-1,\"labels\":[]}\n");
	fclose(f);
	snprintf(path, sizeof(path), "%s/events.journal", dir);
	f = fopen(path, "w");
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	fprintf(f, "not json\n");
	fprintf(f, "{\"time_ns\":200,\"action\":\"die\",\"id\":\"b\",\"name\":\"web\",\"image\":\"i\",\"exit\":3,\"labels\":[\"k=v\"]}\n");
	fprintf(f, "{\"time_ns\":\"soon\",\"action\":\"die\",\"id\":\"b\",\"name\":\"web\",\"image\":\"i\",\"exit\":3,\"labels\":[]}\n");
	fprintf(f, "{\"time_ns\":250,\"action\":\"die\",\"id\":\"b\",\"name\":\"web\",\"image\":\"i\",\"exit\":\"x\",\"labels\":[\"k\"]}\n");
	fprintf(f, "[1,2,3]\n");
	fprintf(f, "{\"time_ns\":260,\"action\":\"die\",\"id\":\"b\",\"name\":\"long\",\"image\":\"%s\",\"exit\":0,\"labels\":[]}\n", longline);
	fprintf(f, "{\"time_ns\":300,\"action\":\"destroy\",\"id\":\"b\",\"name\":\"web\",\"image\":\"i\",\"exit\":-1,\"labels\":[]}\n");
	fprintf(f, "{\"time_ns\":400,\"action\":\"destroy\",\"id\":\"b\",\"name\":\"cut\"");	/* no newline: a write cut short */
	fclose(f);

	ok(events_journal_read(dir, 0, 1000, collect, NULL) == 0 &&
	   !strcmp(got, "create:old:-1:- die:web:3:k=v destroy:web:-1:-"),
	   "the older file first, then the newer; bad, overlong and cut lines skipped: %s", got);
	got[0] = 0;
	ok(events_journal_read(dir, 150, 200, collect, NULL) == 0 && !strcmp(got, "die:web:3:k=v"),
	   "since and until, both inclusive: %s", got);
	ok(events_journal_read(dir, 0, 1000, stop, NULL) == -1, "the callback stops the reading");
	got[0] = 0;
	ok(events_journal_read("/nonexistent", 0, 1000, collect, NULL) == 0 && !got[0], "no journal: no events");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		return 2;
	return tap_done();
}
