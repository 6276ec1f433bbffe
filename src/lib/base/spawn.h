/* SPDX-License-Identifier: Apache-2.0 */
/* The only code that creates processes: posix_spawn, an argv array, no shell. */
#ifndef BIMG_SPAWN_H
#define BIMG_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "balena-img.h"

struct bimg_run_result {
        int exit_status;
        bool cpu_limit_hit;     /* killed at the CPU time limit (a looping tool) */
        char stderr_text[384];  /* the child's stderr, folded to one line */
};

/* Run argv[0] (an absolute path from configure) with a fixed environment,
 * stdin from /dev/null, image_fd as fd 3 (-1: none) and out_fd as stdout
 * (-1: /dev/null), and a limit of 10 s of CPU time (a tool that loops on a
 * damaged filesystem is killed: BIMG_E_UNSUPPORTED, res->cpu_limit_hit).
 * Returns -1 only if it did not run or was killed; the caller judges a
 * non-zero exit status. */
int bimg_run(const char *const argv[], int image_fd, int out_fd,
             struct bimg_run_result *res, struct bimg_error *err);

/* Same, with stdout captured into a buffer (NUL-terminated, yours to free). */
int bimg_run_capture(const char *const argv[], int image_fd, char **ret_out, size_t *ret_len,
                     struct bimg_run_result *res, struct bimg_error *err);

/* bimg_run in two halves, so two tools can run at once. spawn_start() starts
 * argv (file_limit > 0: no file it writes may grow past that many bytes);
 * spawn_finish() waits for it and judges it as bimg_run does. Every started
 * job must be finished. */
struct spawn_job {
        pid_t pid;
        int errfd;
        int out_fd;             /* spawn_start_captured's memfd, else -1 */
        const char *tool;
};
int spawn_start(const char *const argv[], int image_fd, int out_fd, uint64_t file_limit,
                struct spawn_job *job, struct bimg_error *err);
int spawn_finish(struct spawn_job *job, struct bimg_run_result *res, struct bimg_error *err);
/* The same with stdout captured in a memfd of the job's own; the job must be
 * finished with spawn_finish_captured(), which also returns what it printed (at
 * most max bytes, BIMG_E_INVALID past that; NUL-terminated, yours to free),
 * whatever its exit status. */
int spawn_start_captured(const char *const argv[], int image_fd, uint64_t file_limit,
                         struct spawn_job *job, struct bimg_error *err);
int spawn_finish_captured(struct spawn_job *job, size_t max, char **ret_out, size_t *ret_len,
                          struct bimg_run_result *res, struct bimg_error *err);

/* A started job whose result is not wanted: killed and reaped, its descriptors
 * closed. Only for a tool that writes nothing (it may be stopped anywhere). */
void spawn_abandon(struct spawn_job *job);

/* SOURCE_DATE_EPOCH is set (to digits): the tools date what they write by it,
 * and so does the ext4 backend. Its value goes to *ret_epoch (may be NULL). */
bool spawn_fixed_time(int64_t *ret_epoch);

#endif
