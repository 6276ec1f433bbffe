/* SPDX-License-Identifier: Apache-2.0 */
/* JSON output for --json: safe strings and one way to print. */
#ifndef BIMG_OUTPUT_H
#define BIMG_OUTPUT_H

#include <jansson.h>

#include "balena-img.h"

/* A JSON string of s; bytes that are not UTF-8 (labels of hostile images, a
 * summary cut mid-character) become U+FFFD, so output never fails. */
json_t *out_str(const char *s);
/* Same, but null for "" (a field the image does not record). */
json_t *out_str_or_null(const char *s);

/* Print root (stolen; NULL means building it failed) indented, with a newline. */
int out_print_json(json_t *root, struct bimg_error *err);

#endif
