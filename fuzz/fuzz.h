/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the libFuzzer harnesses in fuzz/ (README: Hardening and fuzzing).
 * Each harness calls the real library entry points on the fuzzer's bytes; a
 * crash, a sanitizer report or a leak is a finding. Errors are expected. */
#ifndef BIMG_FUZZ_H
#define BIMG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "balena-img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The bytes as a NUL-terminated string in an exact-size allocation (for the
 * entry points that take a C string); NULL when out of memory. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (s) {
                memcpy(s, data, size);
                s[size] = '\0';
        }
        return s;
}

/* Warnings are part of normal operation; nothing to do with them here. */
static inline void fuzz_ignore_warning(const char *message, void *data)
{
        (void)message;
        (void)data;
}

/* An error must be one non-empty line with a valid exit class: what the CLI
 * prints as "balena-img: MESSAGE". */
static inline void fuzz_check_error(int r, const struct bimg_error *err)
{
        if (r >= 0)
                return;
        if (err->status <= BIMG_OK || err->status > BIMG_E_INVALID || !err->message[0] ||
            strchr(err->message, '\n'))
                abort();
}

#endif
