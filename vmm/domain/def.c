/* A domain definition's life: names, UUIDs, freeing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "vmm/domain/domain.h"

bool domain_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (!len || len > DOMAIN_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *c = name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && !strchr("_.+-", *c))
			return false;
	return true;
}

int domain_uuid_generate(struct domain_def *d)
{
	if (getrandom(d->uuid, sizeof(d->uuid), 0) != sizeof(d->uuid))
		return -errno;
	d->uuid[6] = (d->uuid[6] & 0x0f) | 0x40;	/* version 4 */
	d->uuid[8] = (d->uuid[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	d->has_uuid = true;
	return 0;
}

void domain_uuid_format(const uint8_t u[16], char out[37])
{
	char *o = out;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		o += sprintf(o, "%02x", u[i]);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* libvirt's forms: 36 characters with dashes, or 32 hex digits. */
int domain_uuid_parse(const char *s, uint8_t u[16])
{
	size_t len = strlen(s);
	int n = 0;

	if (len != 36 && len != 32)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		hi = hexval(s[i]);
		lo = i + 1 < len ? hexval(s[i + 1]) : -1;
		if (hi < 0 || lo < 0 || n == 16)
			return -EINVAL;
		u[n++] = hi << 4 | lo;
		i++;
	}
	return n == 16 ? 0 : -EINVAL;
}

void domain_free(struct domain_def *d)
{
	free(d->name);
	free(d->kernel);
	free(d->initrd);
	free(d->cmdline);
	for (unsigned i = 0; i < d->ndisks; i++) {
		free(d->disks[i].source);
		free(d->disks[i].target);
		free(d->disks[i].serial);
		free(d->disks[i].backing);
	}
	for (unsigned i = 0; i < d->nnics; i++) {
		free(d->nics[i].tap);
		for (unsigned f = 0; f < d->nics[i].nforwards; f++)
			free(d->nics[i].forwards[f].address);
	}
	for (unsigned i = 0; i < d->nfs; i++) {
		free(d->fs[i].source);
		free(d->fs[i].tag);
		free(d->fs[i].binary);
	}
	free(d->serial_path);
	free(d->metadata);
	memset(d, 0, sizeof(*d));
}
