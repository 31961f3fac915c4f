/* The guest console sink (vmm/console.c): a cap on what reaches the file, the tail, panics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/console.h"

int main(void)
{
	char path[] = "/tmp/vmm-console-XXXXXX", buf[4096], tail[CONSOLE_TAIL_SIZE + 1];
	int fd = mkstemp(path);
	struct console con;
	ssize_t n;

	if (fd < 0)
		return 2;
	console_init(&con, fd, 1000);
	memset(buf, 'a', sizeof(buf));
	for (int i = 0; i < 10; i++)
		console_write(&con, buf, 300);
	console_write(&con, "Kernel panic - not syncing: test\n", 33);
	n = pread(fd, buf, sizeof(buf), 0);
	ok(n > 1000 && n < 1100 && !memcmp(buf, "aaaa", 4), "a flood stops at the cap (%zd bytes)", n);
	buf[n > 0 ? n : 0] = 0;
	ok(strstr(buf, "passed its cap") != NULL, "with one line that says so");
	ok(console_panicked(&con), "the panic is still seen after the cap");
	console_tail(&con, tail, sizeof(tail), 1);
	ok(strstr(tail, "Kernel panic") != NULL, "and the tail for error reports still has it");
	console_destroy(&con);

	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return 2;
	console_init(&con, fd, 0);
	for (int i = 0; i < 10; i++)
		console_write(&con, "0123456789", 10);
	ok(pread(fd, buf, sizeof(buf), 0) == 100, "no cap: everything");
	console_destroy(&con);
	close(fd);
	unlink(path);
	return tap_done();
}
