/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
#ifndef BIMG_CSV_H
#define BIMG_CSV_H

#include <stddef.h>

#include "balena-img.h"

/* Called per row with its cells (NUL-terminated, borrowed for the call) and the
 * line the row starts on. Return -1 (err filled) to stop. */
typedef int (*csv_row_fn)(char **cells, size_t n, unsigned line, void *data,
                          struct bimg_error *err);

/* Parse text; blank lines are skipped, a trailing line break is optional.
 * origin names the file in messages. */
int csv_parse(const char *text, size_t len, const char *origin, csv_row_fn fn, void *data,
              struct bimg_error *err);

#endif
