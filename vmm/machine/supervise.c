/* The supervisor of a confined VMM (supervise.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/machine/machine.h"
#include "vmm/machine/supervise.h"

/* Wait for the VMM. A signal sent to us (vmm stop, kill PID) goes on to it. */
static int wait_vmm(pid_t vmm, const sigset_t *set)
{
	for (;;) {
		siginfo_t si;
		int status;
		pid_t w;

		if (sigwaitinfo(set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			if (si.si_code != SI_KERNEL)	/* the terminal's reached the VMM itself */
				sigqueue(vmm, MACHINE_SIG_PASSED, (union sigval){ .sival_int = si.si_signo });
			continue;
		}
		while ((w = waitpid(vmm, &status, WNOHANG)) < 0 && errno == EINTR)
			;
		if (w == vmm)
			return status;
	}
}

int machine_supervise(const struct machine_supervised *s, int *wstatus, struct error *e)
{
	pid_t self = getpid(), vmm;
	struct termios tio;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0;
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);	/* nothing buffered is written twice */
	vmm = fork();
	if (vmm < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return err_sys(e, -errno, "%s: cannot fork its VMM", s->who);
	}
	if (vmm == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* the supervisor gone (kill -9): the VM goes too */
		if (getppid() != self)
			_exit(EXIT_FAILURE);
		sigaddset(&old, MACHINE_SIG_PASSED);	/* queued until the machine reads it */
		sigprocmask(SIG_SETMASK, &old, NULL);
		int status = s->run(s->arg, self);

		fflush(NULL);
		_exit(status);
	}
	if (s->give_fd >= 0)
		close(s->give_fd);
	*wstatus = wait_vmm(vmm, &set);
	if (tty)	/* a VMM killed in raw mode leaves the terminal as it was */
		tcsetattr(STDIN_FILENO, TCSADRAIN, &tio);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
