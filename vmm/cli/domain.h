/* vmm domain's files: the verbs (domain.c) and the console (domain-console.c). */
#ifndef VMM_CLI_DOMAIN_H
#define VMM_CLI_DOMAIN_H

#include "vmm/domain/domain.h"

struct cli;

/* virsh console: this terminal on d's pty console until ^]. vmm's exit status. */
int cli_domain_console(const struct cli *cli, const struct domain_def *d);

#endif
