/* SPDX-License-Identifier: Apache-2.0 */
/* Strict UTF-8: config.json is JSON, and names land in FAT long names. */
#ifndef BIMG_UTF8_H
#define BIMG_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
size_t utf8_char_len(const unsigned char *s, size_t n);

/* True when the NUL-terminated s is valid UTF-8 throughout. */
bool utf8_is_valid(const char *s);

#endif
