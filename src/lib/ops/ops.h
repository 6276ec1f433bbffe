/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the operations. */
#ifndef BIMG_OPS_H
#define BIMG_OPS_H

#include <stddef.h>

#include "balena-img.h"

/* A unified diff (3 lines of context) from a to b, "" when they are equal.
 * *ret is yours to free(). Texts over 2000 lines are shown as one hunk. */
int diff_unified(const char *name, const char *a, size_t alen, const char *b, size_t blen,
                 char **ret, struct bimg_error *err);

/* Read a whole host file (at most max bytes) into *ret, NUL-terminated, yours to
 * free(). A missing file is BIMG_E_NOT_FOUND, an oversized one BIMG_E_INVALID. */
int ops_read_host_file(const char *path, size_t max, char **ret, size_t *ret_len,
                       struct bimg_error *err);

#endif
