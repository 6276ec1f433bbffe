/* SPDX-License-Identifier: Apache-2.0 */
/* udev rules for config.json os.udevRules (spec 3.4). */
#ifndef BIMG_UDEV_H
#define BIMG_UDEV_H

#include <stddef.h>

#include "balena-img.h"

/* A rule name is the key in os.udevRules and becomes /etc/udev/rules.d/NAME.rules:
 * [A-Za-z0-9_-]+, at most 64 chars, and not the name of one of the OS's own
 * rules (which it would shadow). BIMG_E_INVALID otherwise. */
int udev_check_name(const char *name, struct bimg_error *err);

/* The rule text: non-empty (not only blanks/comments), valid UTF-8, no NUL or
 * control characters other than tab/newline, and every rule line (joined over
 * trailing backslashes) made of KEY op "value" pairs separated by commas, with
 * op one of == != = += -= := . Errors name "origin:LINE". */
int udev_check_rules(const char *text, size_t len, const char *origin, struct bimg_error *err);

/* NAME from a --udev-rule argument: "NAME=FILE" gives NAME and FILE; a plain
 * path gives its base name without ".rules". ret_file points into arg. */
int udev_split_arg(const char *arg, char *ret_name, size_t name_size, const char **ret_file,
                   struct bimg_error *err);

#endif
