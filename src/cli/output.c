/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4;
        else
                return 0;
        for (size_t i = 1; i < n; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return n;
}

json_t *out_str(const char *s)
{
        json_t *v = json_string(s);
        char *clean, *o;

        if (v)
                return v;
        clean = malloc(strlen(s) * 3 + 1);
        if (!clean)
                return NULL;
        o = clean;
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t n = utf8_len(p);

                if (n == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3);   /* U+FFFD replacement character */
                        o += 3;
                        p++;
                } else {
                        memcpy(o, p, n);
                        o += n;
                        p += n;
                }
        }
        *o = '\0';
        v = json_string(clean);
        free(clean);
        return v;
}

json_t *out_str_or_null(const char *s)
{
        return s && s[0] ? out_str(s) : json_null();
}

int out_print_json(json_t *root, struct bimg_error *err)
{
        char *text;

        if (!root)
                return bimg_fail(err, BIMG_E_FAILURE, "cannot build the JSON output");
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!text)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        puts(text);
        free(text);
        return 0;
}
