/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "output.h"

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
        for (const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s); *p;) {
                size_t n = utf8_char_len(p, (size_t)(end - p));

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
