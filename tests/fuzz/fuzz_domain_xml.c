/*
 * libFuzzer target for libvirt domain XML (vmm domain define): hostile
 * documents must be refused cleanly; an accepted one is written out, and what
 * vmm writes must parse back and be written the same again. Its container
 * metadata (vmm domain start of a container's dump) is read too: read or
 * refused, never a crash, and a refusal has its line.
 */
#include <errno.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/domain/domain.h"
#include "vmm/domain/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct domain_def d, back;
	struct domain_container c;
	struct error e;
	char *x1, *x2;
	int ret;

	if (domain_parse((const char *)data, size, &d, &e)) {
		if (e.code >= 0 || !e.msg[0] || strlen(e.msg) >= sizeof(e.msg))
			abort();
		return 0;
	}
	err_clear(&e);
	ret = domain_container_read(&d, &c, &e);
	if (!ret)
		domain_container_free(&c);
	else if (ret != -ENOENT && (!e.msg[0] || e.code != ret))
		abort();
	x1 = domain_format(&d);
	if (!x1 || domain_parse(x1, strlen(x1), &back, &e))
		abort();
	x2 = domain_format(&back);
	if (!x2 || strcmp(x1, x2))
		abort();
	free(x1);
	free(x2);
	domain_free(&d);
	domain_free(&back);
	return 0;
}
