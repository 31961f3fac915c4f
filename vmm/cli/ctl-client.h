/* CLI side of a running container's control socket (see vmm/ctl.h). */
#ifndef VMM_CLI_CTL_CLIENT_H
#define VMM_CLI_CTL_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>

struct cli;
struct container;

/* Open container ref and connect to its control socket. Logs; 0 or -errno (-ESRCH: not running). */
int cli_ctl_connect(struct cli *cli, const char *ref, struct container **ct, int *fd);
/* Send req (with fds) and wait for the next reply. Logs an {"error"} reply; 0, -EIO or -errno. */
int cli_ctl_call(int fd, json_object *req, const int *fds, unsigned nfds, json_object **reply);
/* Signal names and numbers: "KILL", "SIGTERM", "9". 0 on failure. */
int cli_parse_signal(const char *s);

#endif
