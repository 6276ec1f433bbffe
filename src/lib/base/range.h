/* SPDX-License-Identifier: Apache-2.0 */
/* Sets of byte ranges: which parts of a partition hold what. */
#ifndef BIMG_RANGE_H
#define BIMG_RANGE_H

#include <stddef.h>
#include <stdint.h>

struct range {
        uint64_t start, end;    /* [start, end) */
};

struct range_set {
        struct range *r;
        size_t n, cap;
};

/* Add [start, end) (nothing if empty); -1 when out of memory. */
int range_add(struct range_set *s, uint64_t start, uint64_t end);
/* Add every range of from; -1 when out of memory. */
int range_add_set(struct range_set *s, const struct range_set *from);
/* The bytes s covers (s normalized). */
uint64_t range_total(const struct range_set *s);
/* Sorted, with touching and overlapping ranges merged. */
void range_normalize(struct range_set *s);
/* s minus every byte of minus; both normalized. -1 when out of memory (s is
 * then emptied: less is claimed, never more). */
int range_subtract(struct range_set *s, const struct range_set *minus);
/* Each range cut inwards to multiples of align (a power of two); ranges left
 * empty go. */
void range_shrink_to(struct range_set *s, uint64_t align);
void range_free(struct range_set *s);

#endif
