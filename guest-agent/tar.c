/* Minimal tar format: ustar headers, pax/GNU long names, safe paths (tar.h). */
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "guest-agent/tar.h"

/* An octal field, or GNU base-256 when the value does not fit. */
static void put_num(uint8_t *f, size_t len, uint64_t v)
{
	if (v < (1ULL << (3 * (len - 1)))) {
		f[len - 1] = 0;
		for (size_t i = len - 1; i-- > 0; v >>= 3)
			f[i] = '0' + (v & 7);
		return;
	}
	for (size_t i = len; i-- > 1; v >>= 8)
		f[i] = v & 0xff;
	f[0] = 0x80;
}

static int get_num(const uint8_t *f, size_t len, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	if (f[0] & 0x80) {	/* base-256 */
		if (f[0] != 0x80)
			return -EINVAL;	/* negative, or too large for us */
		for (i = 1; i < len; i++) {
			if (*v >> 56)
				return -EINVAL;
			*v = *v << 8 | f[i];
		}
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (*v >> 60)
			return -EINVAL;
		*v = *v << 3 | (f[i] - '0');
	}
	for (; i < len; i++)	/* then only NULs and spaces */
		if (f[i] && f[i] != ' ')
			return -EINVAL;
	return 0;
}

void tar_checksum(uint8_t b[TAR_BLOCK])
{
	unsigned sum = 0;

	memset(b + 148, ' ', 8);
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += b[i];
	put_num(b + 148, 7, sum);
	b[155] = ' ';
}

static size_t digits(size_t v)
{
	size_t d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* One pax record "LEN key=value\n" appended at p; its length (which counts itself). */
static size_t pax_record(char *p, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value), body = klen + vlen + 3;
	size_t len = body + digits(body), d;

	len = body + digits(len);
	d = digits(len);
	for (size_t i = d, v = len; i--; v /= 10)
		p[i] = '0' + v % 10;
	p[d] = ' ';
	memcpy(p + d + 1, key, klen);
	p[d + 1 + klen] = '=';
	memcpy(p + d + 2 + klen, value, vlen);
	p[len - 1] = '\n';
	return len;
}

static char type_of(const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFREG: return '0';
	case S_IFLNK: return '2';
	case S_IFCHR: return '3';
	case S_IFBLK: return '4';
	case S_IFDIR: return '5';
	case S_IFIFO: return '6';
	default: return 0;
	}
}

size_t tar_header(uint8_t *out, size_t cap, const char *path, const struct stat *st, const char *link)
{
	char type = type_of(st), name[TAR_PATH_MAX + 1];
	size_t nlen = strlen(path), llen = link ? strlen(link) : 0, off = 0;
	uint8_t *h;

	if (!type || cap < TAR_HEADER_MAX || nlen >= TAR_PATH_MAX || llen >= TAR_PATH_MAX)
		return 0;
	/* Directories end in '/', as tar writes them. */
	memcpy(name, path, nlen + 1);
	if (type == '5' && nlen && name[nlen - 1] != '/') {
		name[nlen++] = '/';
		name[nlen] = 0;
	}
	memset(out, 0, cap < TAR_HEADER_MAX ? cap : TAR_HEADER_MAX);
	if (nlen > 100 || llen > 100) {
		/* A pax header carries the long names; the ustar one gets truncated copies. */
		char *data = (char *)out + TAR_BLOCK;
		size_t dlen = 0;

		if (nlen > 100)
			dlen += pax_record(data + dlen, "path", name);
		if (llen > 100)
			dlen += pax_record(data + dlen, "linkpath", link);
		memcpy(out, "PaxHeader", 9);
		memcpy(out + 100, "0000644", 7);
		put_num(out + 108, 8, 0);
		put_num(out + 116, 8, 0);
		put_num(out + 124, 12, dlen);
		put_num(out + 136, 12, 0);
		out[156] = 'x';
		memcpy(out + 257, "ustar", 6);
		memcpy(out + 263, "00", 2);
		tar_checksum(out);
		off = TAR_BLOCK + dlen + tar_pad(dlen);
	}
	h = out + off;
	memcpy(h, name, nlen > 100 ? 100 : nlen);
	put_num(h + 100, 8, st->st_mode & 07777);
	put_num(h + 108, 8, st->st_uid);
	put_num(h + 116, 8, st->st_gid);
	put_num(h + 124, 12, type == '0' ? (uint64_t)st->st_size : 0);
	put_num(h + 136, 12, st->st_mtime > 0 ? (uint64_t)st->st_mtime : 0);
	h[156] = type;
	if (link)
		memcpy(h + 157, link, llen > 100 ? 100 : llen);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (type == '3' || type == '4') {
		put_num(h + 329, 8, major(st->st_rdev));
		put_num(h + 337, 8, minor(st->st_rdev));
	}
	tar_checksum(h);
	return off + TAR_BLOCK;
}

static void field_str(char *dst, const uint8_t *src, size_t len)
{
	size_t n = 0;

	while (n < len && src[n])
		n++;
	memcpy(dst, src, n);
	dst[n] = 0;
}

int tar_parse(const uint8_t b[TAR_BLOCK], struct tar_entry *e)
{
	unsigned sum = 0;
	int ssum = 0;
	uint64_t v, want;
	char prefix[156];

	{
		int i = 0;

		while (i < TAR_BLOCK && !b[i])
			i++;
		if (i == TAR_BLOCK)
			return 0;
	}
	for (int i = 0; i < TAR_BLOCK; i++) {
		uint8_t c = i >= 148 && i < 156 ? ' ' : b[i];

		sum += c;
		ssum += (int8_t)c;
	}
	if (get_num(b + 148, 8, &want) || (want != sum && (int64_t)want != ssum))
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->type = b[156] ? (char)b[156] : '0';
	if (get_num(b + 100, 8, &v))
		return -EINVAL;
	e->mode = v & 07777;
	if (get_num(b + 108, 8, &v) || v > UINT32_MAX)
		return -EINVAL;
	e->uid = v;
	if (get_num(b + 116, 8, &v) || v > UINT32_MAX)
		return -EINVAL;
	e->gid = v;
	if (get_num(b + 124, 12, &e->size) || e->size > (1ULL << 44))
		return -EINVAL;
	if (get_num(b + 136, 12, &v))
		return -EINVAL;
	e->mtime = v > INT64_MAX ? 0 : (int64_t)v;
	field_str(e->link, b + 157, 100);
	if (!memcmp(b + 257, "ustar", 5)) {
		if (!get_num(b + 329, 8, &v))
			e->devmajor = v;
		if (!get_num(b + 337, 8, &v))
			e->devminor = v;
	}
	field_str(prefix, b + 345, 155);
	if (!memcmp(b + 257, "ustar\0", 6) && prefix[0]) {
		size_t pl = strlen(prefix);

		memcpy(e->name, prefix, pl);
		e->name[pl] = '/';
		field_str(e->name + pl + 1, b, 100);
	} else {
		field_str(e->name, b, 100);
	}
	if (e->type == '7')
		e->type = '0';	/* contiguous file */
	if (strchr("123456", e->type))
		e->size = 0;	/* no data follows links, devices, directories, fifos */
	return 1;
}

int tar_pax(const char *data, size_t len, char *name, char *link)
{
	size_t off = 0;

	while (off < len) {
		size_t rec = 0, i = off, klen;
		const char *key, *val, *eq;

		while (i < len && data[i] >= '0' && data[i] <= '9') {
			rec = rec * 10 + (data[i] - '0');
			if (rec > len)
				return -EINVAL;
			i++;
		}
		if (i == off || i >= len || data[i] != ' ' || rec > len - off || rec < i - off + 3 ||
		    data[off + rec - 1] != '\n')
			return -EINVAL;
		key = data + i + 1;
		eq = memchr(key, '=', data + off + rec - 1 - key);
		if (!eq)
			return -EINVAL;
		klen = eq - key;
		val = eq + 1;
		{
			size_t vlen = data + off + rec - 1 - val;
			char *dst = NULL;

			if (klen == 4 && !memcmp(key, "path", 4))
				dst = name;
			else if (klen == 8 && !memcmp(key, "linkpath", 8))
				dst = link;
			if (dst) {
				if (vlen >= TAR_PATH_MAX || memchr(val, 0, vlen))
					return -EINVAL;
				memcpy(dst, val, vlen);
				dst[vlen] = 0;
			}
		}
		off += rec;
	}
	return 0;
}
