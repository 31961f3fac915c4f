/*
 * One error convention for the whole tree (crun's model). A function that
 * fails fills a struct error -- a negative errno and one line of text with
 * its context ("open /x/config.json: No such file or directory") -- and
 * returns that negative code. It does not log. A caller that adds context
 * uses err_wrap ("container web: " + the callee's line); the top level (the
 * CLI, the runner) prints the line once (err_print, vmm/base/log.h).
 *
 * The text lives in a fixed buffer, so the static guest agent uses the same
 * type. e may be NULL everywhere: the code is still returned.
 *
 * Devices are the exception: a guest that breaks a device's rules gets a
 * warning and NEEDS_RESET, because nothing above a device can report it.
 */
#ifndef VMM_BASE_ERROR_H
#define VMM_BASE_ERROR_H

#include <stdbool.h>

#define ERR_MSG_MAX	512

/* Exit status of vmm's own failures in commands that also pass on a guest's (docker: 125). */
#define EXIT_VMM_ERROR	125

struct error {
	int code;		/* negative errno; 0: no error */
	char msg[ERR_MSG_MAX];
};

/* Set e to code (negated when positive; 0 becomes -EINVAL) and the message; returns the code. */
int err_set(struct error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same, with ": strerror(code)" appended. */
int err_sys(struct error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Prefix context: "fmt: " + the message e holds. When the callee returned
 * code without filling e, the message becomes "fmt: strerror(code)".
 * Returns code (negated when positive).
 */
int err_wrap(struct error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Take over an object's own error (a disk keeps the failure of its last
 * call): e becomes from, or strerror(code) when from holds nothing.
 * Returns code (negated when positive).
 */
int err_copy(struct error *e, const struct error *from, int code);
/*
 * Without printf (the static guest agent stays small): the message is the
 * concatenation of the strings up to NULL. Returns code (negated when positive).
 */
int err_cat(struct error *e, int code, const char *first, ...) __attribute__((sentinel));
void err_clear(struct error *e);

static inline bool err_is_set(const struct error *e)
{
	return e && e->code;
}

#endif
