/* Logging in one place: levels, a tag naming the VM or device, printf-checked. */
#ifndef VMM_BASE_LOG_H
#define VMM_BASE_LOG_H

struct error;

enum log_level { LOG_NONE = -1, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Lines go to stderr as "vmm: [tag: ]level: message". */
void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The top level's one line for a failure: "vmm: error: <e->msg>". */
void err_print(const struct error *e);

#define pr_err(...)	log_msg(LOG_ERROR, NULL, __VA_ARGS__)
#define pr_warn(...)	log_msg(LOG_WARN, NULL, __VA_ARGS__)
#define pr_info(...)	log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define pr_debug(fmt, ...) \
	do { \
		if (log_get_level() >= LOG_DEBUG) \
			log_msg(LOG_DEBUG, NULL, "%s: " fmt, __func__, ##__VA_ARGS__); \
	} while (0)

/* The same, tagged with a device or VM name. */
#define dev_err(tag, ...)	log_msg(LOG_ERROR, tag, __VA_ARGS__)
#define dev_warn(tag, ...)	log_msg(LOG_WARN, tag, __VA_ARGS__)
#define dev_info(tag, ...)	log_msg(LOG_INFO, tag, __VA_ARGS__)
#define dev_debug(tag, fmt, ...) \
	do { \
		if (log_get_level() >= LOG_DEBUG) \
			log_msg(LOG_DEBUG, tag, "%s: " fmt, __func__, ##__VA_ARGS__); \
	} while (0)

#endif
