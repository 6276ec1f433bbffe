/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/csv.h"

struct row {
        char **cells;
        size_t n, cap;
        char *cell;     /* the cell being read */
        size_t len, cell_cap;
};

static int put_char(struct row *r, char c)
{
        if (r->len + 1 >= r->cell_cap) {
                size_t cap = r->cell_cap ? r->cell_cap * 2 : 64;
                char *p = realloc(r->cell, cap);

                if (!p)
                        return -1;
                r->cell = p;
                r->cell_cap = cap;
        }
        r->cell[r->len++] = c;
        return 0;
}

static int end_cell(struct row *r)
{
        char *copy;

        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 16;
                char **p = realloc(r->cells, cap * sizeof(*p));

                if (!p)
                        return -1;
                r->cells = p;
                r->cap = cap;
        }
        copy = strndup(r->cell ? r->cell : "", r->len);
        if (!copy)
                return -1;
        r->cells[r->n++] = copy;
        r->len = 0;
        return 0;
}

static void clear_row(struct row *r)
{
        for (size_t i = 0; i < r->n; i++)
                free(r->cells[i]);
        r->n = 0;
}

static int end_row(struct row *r, unsigned line, csv_row_fn fn, void *data,
                   struct bimg_error *err)
{
        int ret = 0;

        if (end_cell(r) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        if (!(r->n == 1 && r->cells[0][0] == '\0'))     /* a blank line */
                ret = fn(r->cells, r->n, line, data, err);
        clear_row(r);
        return ret;
}

int csv_parse(const char *text, size_t len, const char *origin, csv_row_fn fn, void *data,
              struct bimg_error *err)
{
        struct row r = { 0 };
        bool quoted = false, after_quote = false;
        unsigned line = 1, row_line = 1;
        int ret = -1;

        for (size_t i = 0; i < len; i++) {
                char c = text[i];

                if (quoted) {
                        if (c == '"' && i + 1 < len && text[i + 1] == '"')
                                i++;    /* "" is one quote */
                        else if (c == '"') {
                                quoted = false;
                                after_quote = true;
                                continue;
                        }
                        line += c == '\n';
                        if (put_char(&r, c) < 0)
                                goto oom;
                        continue;
                }
                if (c == ',' || c == '\n' || (c == '\r' && i + 1 < len && text[i + 1] == '\n')) {
                        if (c == '\r')
                                i++;
                        after_quote = false;
                        if (c == ',') {
                                if (end_cell(&r) < 0)
                                        goto oom;
                                continue;
                        }
                        if (end_row(&r, row_line, fn, data, err) < 0)
                                goto out;
                        row_line = ++line;
                        continue;
                }
                if (after_quote) {
                        bimg_fail(err, BIMG_E_INVALID, "%s:%u: text after a closing quote; "
                                  "write a quote inside a quoted cell as \"\"", origin, line);
                        goto out;
                }
                if (c == '"' && r.len == 0) {
                        quoted = true;
                        continue;
                }
                if (put_char(&r, c) < 0)
                        goto oom;
        }
        if (quoted) {
                bimg_fail(err, BIMG_E_INVALID, "%s:%u: a quoted cell is not closed", origin,
                          row_line);
                goto out;
        }
        if ((r.len > 0 || r.n > 0 || after_quote) && end_row(&r, row_line, fn, data, err) < 0)
                goto out;
        ret = 0;
        goto out;
oom:
        bimg_fail(err, BIMG_E_FAILURE, "out of memory");
out:
        clear_row(&r);
        free(r.cells);
        free(r.cell);
        return ret;
}
