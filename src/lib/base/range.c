/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "base/range.h"

int range_add(struct range_set *s, uint64_t start, uint64_t end)
{
        if (end <= start)
                return 0;
        if (s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 16;
                struct range *grown = realloc(s->r, cap * sizeof(*grown));

                if (!grown)
                        return -1;
                s->r = grown;
                s->cap = cap;
        }
        s->r[s->n++] = (struct range){ start, end };
        return 0;
}

int range_add_set(struct range_set *s, const struct range_set *from)
{
        for (size_t i = 0; i < from->n; i++)
                if (range_add(s, from->r[i].start, from->r[i].end) < 0)
                        return -1;
        return 0;
}

uint64_t range_total(const struct range_set *s)
{
        uint64_t total = 0;

        for (size_t i = 0; i < s->n; i++)
                total += s->r[i].end - s->r[i].start;
        return total;
}

static int by_start(const void *a, const void *b)
{
        const struct range *x = a, *y = b;

        return x->start < y->start ? -1 : x->start > y->start;
}

void range_normalize(struct range_set *s)
{
        size_t kept = 0;

        if (s->n == 0)
                return;
        qsort(s->r, s->n, sizeof(*s->r), by_start);
        for (size_t i = 1; i < s->n; i++) {
                if (s->r[i].start <= s->r[kept].end) {
                        if (s->r[i].end > s->r[kept].end)
                                s->r[kept].end = s->r[i].end;
                } else {
                        s->r[++kept] = s->r[i];
                }
        }
        s->n = kept + 1;
}

int range_subtract(struct range_set *s, const struct range_set *minus)
{
        struct range_set out = { 0 };
        size_t j = 0;

        for (size_t i = 0; i < s->n; i++) {
                uint64_t at = s->r[i].start, end = s->r[i].end;

                while (j < minus->n && minus->r[j].end <= at)
                        j++;
                for (size_t k = j; k < minus->n && minus->r[k].start < end; k++) {
                        if (range_add(&out, at, minus->r[k].start) < 0)
                                goto oom;
                        if (minus->r[k].end > at)
                                at = minus->r[k].end;
                }
                if (range_add(&out, at, end) < 0)
                        goto oom;
        }
        range_free(s);
        *s = out;
        return 0;
oom:
        range_free(&out);
        range_free(s);
        return -1;
}

void range_shrink_to(struct range_set *s, uint64_t align)
{
        size_t kept = 0;

        for (size_t i = 0; i < s->n; i++) {
                uint64_t start = (s->r[i].start + align - 1) & ~(align - 1);
                uint64_t end = s->r[i].end & ~(align - 1);

                if (start < end)
                        s->r[kept++] = (struct range){ start, end };
        }
        s->n = kept;
}

void range_free(struct range_set *s)
{
        free(s->r);
        *s = (struct range_set){ 0 };
}
