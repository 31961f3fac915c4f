/* Lowercase hexadecimal. */
#ifndef VMM_BASE_HEX_H
#define VMM_BASE_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* 2 * len hex digits and a NUL into out. */
void hex_encode(const void *data, size_t len, char *out);
/* Whether s is n hex digits (lowercase), n >= 1. */
bool hex_valid(const char *s, size_t n);

#endif
