/* SPDX-License-Identifier: Apache-2.0 */
/* Path rules shared by every layer: what a path inside an image may look like. */
#ifndef BIMG_PATH_H
#define BIMG_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "balena-img.h"

/* Check a path inside a filesystem and write its normal form (absolute, no
 * trailing or doubled '/', no "." components) to out. ".." is refused: it
 * could only be used to climb out of a partition or folder. */
int path_normalize(const char *path, char *out, size_t out_size, struct bimg_error *err);

/* True if any '/'-separated component of path is "..". */
bool path_has_dotdot(const char *path);

/* Split "dir/sub/name" into the last component (borrowed from path) and
 * the parent written to parent ("/" for top-level names). */
const char *path_basename(const char *path);
void path_parent(const char *path, char *parent, size_t parent_size);

/* Join dir and name with exactly one '/'; fails (BIMG_E_INVALID) if too long. */
int path_join(const char *dir, const char *name, char *out, size_t out_size,
              struct bimg_error *err);

/* Host paths (not image paths): the folder holding a file ("." for a bare
 * name), and name taken relative to dir unless it is absolute. */
void path_host_dir(const char *path, char *dir, size_t dir_size);
int path_host_resolve(const char *dir, const char *name, char *out, size_t out_size,
                      struct bimg_error *err);

/* IMAGE:PART/PATH as given on the command line. */
struct bimg_pathspec {
        char image[4096];
        char part[80];          /* "2", "resin-boot", "boot", ... */
        char path[4096];        /* normalised, "/" when omitted */
};

/* Parse IMAGE:PART[/PATH]. Returns 1 when arg is an image path spec, 0 when it
 * has no ":PART" and is therefore a host path, -1 on an invalid spec. */
int path_parse_spec(const char *arg, struct bimg_pathspec *ret_spec, struct bimg_error *err);

#endif
