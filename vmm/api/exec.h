/* docker exec through the API: instances the service keeps between create, start and inspect. */
#ifndef VMM_API_EXEC_H
#define VMM_API_EXEC_H

#include <pthread.h>

#define API_EXECS_MAX	1024	/* past this, the oldest finished ones are forgotten */

struct api_exec;

struct api_execs {
	pthread_mutex_t lock;
	struct api_exec *head;	/* newest first */
	unsigned n;
};

void api_execs_init(struct api_execs *x);
void api_execs_destroy(struct api_execs *x);

#endif
