/* Building the guest kernel command line from defaults, host quirks, devices and the user. */
#ifndef VMM_CMDLINE_H
#define VMM_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#define CMDLINE_MAX 2048	/* x86 COMMAND_LINE_SIZE, including the NUL */

struct cmdline {
	char buf[CMDLINE_MAX];
	size_t len;
	bool overflow;		/* something did not fit: the boot must be refused */
};

void cmdline_init(struct cmdline *c);
/* Append one or more space-separated parameters. */
void cmdline_add(struct cmdline *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when a parameter named key (as "key" or "key=...") is present. */
bool cmdline_has(const struct cmdline *c, const char *key);

#endif
