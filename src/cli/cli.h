/* SPDX-License-Identifier: Apache-2.0 */
/* The command-line front end: one file per command, this header between them. */
#ifndef BIMG_CLI_H
#define BIMG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "balena-img.h"

#define PROGRAM "balena-img"

struct command {
        const char *name;
        const char *synopsis;   /* "info IMAGE [--json]" */
        const char *summary;    /* --help and the man-page sync test read this table */
        const char *help;       /* options and details, printed by COMMAND --help */
        int (*run)(int argc, char **argv, struct bimg_error *err);
};

extern const struct command commands[];

int cmd_info(int argc, char **argv, struct bimg_error *err);
int cmd_ls(int argc, char **argv, struct bimg_error *err);
int cmd_cat(int argc, char **argv, struct bimg_error *err);
int cmd_cp(int argc, char **argv, struct bimg_error *err);
int cmd_rm(int argc, char **argv, struct bimg_error *err);
int cmd_mkdir(int argc, char **argv, struct bimg_error *err);
int cmd_configure(int argc, char **argv, struct bimg_error *err);
int cmd_config(int argc, char **argv, struct bimg_error *err);
int cmd_splash(int argc, char **argv, struct bimg_error *err);
int cmd_device_types(int argc, char **argv, struct bimg_error *err);
int cmd_batch(int argc, char **argv, struct bimg_error *err);
int cmd_verify(int argc, char **argv, struct bimg_error *err);

/* The image operand: argv[*i] when more than `after` operands are left (and *i
 * moves past it), else $BALENA_IMG; a usage error when neither is there. */
int cli_take_image(const char *cmd, int argc, char **argv, int *i, int after,
                   const char **ret_image, struct bimg_error *err);

/* Open an image for a command, with warnings printed to stderr. */
int cli_open_image(const char *path, bool writable, struct bimg_image **ret_img,
                   struct bimg_error *err);

/* Open an image to change: in place, or (output set, -o) a sparse copy of it that
 * cli_end_change renames to output once the change succeeded. */
int cli_begin_change(const char *path, const char *output, struct bimg_image **ret_img,
                     struct bimg_output **ret_out, struct bimg_error *err);
/* Close img; with an output, finish it when status is 0, else remove it. With
 * bmap_of (the result's path), then write bmap_of.bmap. Returns status, or -1
 * if finishing failed. */
int cli_end_change(struct bimg_image *img, struct bimg_output *out, int status,
                   const char *bmap_of, struct bimg_error *err);

/* Print one change of a transaction: "added     resin-boot:/x". */
struct cli_changes {
        bool dry_run;           /* "would add" */
        FILE *out;              /* stdout, or a buffer to print later */
};
void cli_print_change(enum bimg_change_kind kind, const struct bimg_part *part, const char *path,
                      uint64_t size, void *data);

/* Parse the options every command shares (--help); returns 1 when help was
 * printed (the command is done), 0 to go on, -1 on a usage error. The caller's
 * getopt_long option table must end with the entries from CLI_COMMON_OPTIONS. */
#define CLI_OPT_HELP 'h'
#define CLI_OPT_QUIET 1000
#define CLI_OPT_WAIT 1001
#define CLI_COMMON_OPTIONS                                                                 \
        { "help", no_argument, NULL, CLI_OPT_HELP },                                       \
        { "quiet", no_argument, NULL, CLI_OPT_QUIET },                                     \
        { "wait", required_argument, NULL, CLI_OPT_WAIT }, { NULL, 0, NULL, 0 }
/* --quiet (no progress bar) and --wait SECONDS (for another balena-img's lock):
 * true when opt was one of these and is handled. A bad --wait value fills err
 * and returns false, so the caller's unknown-option error reports it. */
bool cli_common_option(int opt, struct bimg_error *err);
extern bool cli_quiet;
/* Draw a progress bar for long steps when stderr is a terminal. */
void cli_progress_init(void);
/* Monotonic seconds, for durations. */
double cli_now(void);
int cli_usage_error(const char *cmd, struct bimg_error *err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int cli_bad_option(const char *cmd, int opt, char **argv, struct bimg_error *err);
void cli_print_help(const char *cmd);

/* An opened IMAGE:PART/PATH argument. */
struct cli_target {
        struct bimg_image *img;
        struct bimg_output *out;        /* -o OUT, or NULL */
        char *bmap_of;                  /* --bmap: the result's path, or NULL */
        const struct bimg_part *part;
        struct bimg_fs *fs;
        char path[4096];
};

/* Open the image of a spec (read-only, or for writing: in place or, with output,
 * a copy), find PART and its filesystem. */
int cli_open_target(const char *arg, bool writable, const char *output, bool bmap,
                    struct cli_target *ret, struct bimg_error *err);
/* Close it; a -o output is kept only when status is 0. Returns status or -1. */
int cli_close_target(struct cli_target *t, int status, struct bimg_error *err);

/* Warnings from the library: printed to stderr, never stdout. */
void cli_warn(const char *message, void *data);

/* "1.5 MiB" */
void cli_format_size(uint64_t bytes, char *out, size_t size);

#endif
