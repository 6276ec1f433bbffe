/* SPDX-License-Identifier: Apache-2.0 */
/* A pool of forked worker processes for batches: many images at once. */
#ifndef BIMG_WORKERS_H
#define BIMG_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

#include "balena-img.h"

#define WORKERS_MAX_RECORD 4096 /* one record is one message, never split */

/* Runs in a worker (or in the caller when there is one worker): do task index
 * and describe the outcome in record (record_size bytes, zeroed). */
typedef void (*workers_task_fn)(size_t index, void *record, void *data);
/* Runs in the caller, once per task handed out, in completion order. record is
 * NULL when the worker died before it reported. Return false to hand out no
 * more tasks (the running ones still finish and report). */
typedef bool (*workers_done_fn)(size_t index, const void *record, void *data);

/* Run tasks 0..n_tasks-1 on n_workers processes forked from the caller, each
 * taking the next task when it finishes one. Returns 0, or -1 when the pool
 * could not be set up (err filled; then no task has run). */
int workers_run(unsigned n_workers, size_t n_tasks, size_t record_size, workers_task_fn task,
                workers_done_fn done, void *data, struct bimg_error *err);

#endif
