/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-file reads into memory, bounded: every input is checked in memory. */
#ifndef BIMG_FILE_H
#define BIMG_FILE_H

#include <stddef.h>

#include "balena-img.h"

/* All of fd, from offset 0 to its size (at most max bytes, BIMG_E_INVALID past
 * that), NUL-terminated in *ret (yours to free()). name is for messages. */
int file_read_fd(int fd, size_t max, const char *name, char **ret, size_t *ret_len,
                 struct bimg_error *err);

/* The same for a host file, which must be a regular file (a missing one is
 * BIMG_E_NOT_FOUND). */
int file_read_path(const char *path, size_t max, char **ret, size_t *ret_len,
                   struct bimg_error *err);

#endif
