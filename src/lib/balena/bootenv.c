/* SPDX-License-Identifier: Apache-2.0 */
/* Bootloader state files (spec §8.2): KEY=value lines, '#' padding in GRUB blocks. */
#include <stdio.h>
#include <string.h>

#include "balena/balena.h"

void bootenv_get(const char *text, size_t len, const char *key, char *ret, size_t size)
{
        size_t klen = strlen(key);
        const char *p = text, *end = text + len;

        ret[0] = '\0';
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *eol = nl ? nl : end;

                while (p < eol && (*p == ' ' || *p == '\t'))
                        p++;
                if ((size_t)(eol - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
                        const char *v = p + klen + 1, *vend = eol;

                        while (vend > v && (vend[-1] == '\r' || vend[-1] == ' '))
                                vend--;
                        snprintf(ret, size, "%.*s", (int)(vend - v), v);  /* later lines win */
                }
                p = nl ? nl + 1 : end;
        }
}
