/* SPDX-License-Identifier: Apache-2.0 */
/* The process's progress reporter: long copies and (de)compression call it. */
#include <stddef.h>

#include "base/progress.h"

static bimg_progress_fn reporter;
static void *reporter_data;

void bimg_set_progress(bimg_progress_fn fn, void *data)
{
        reporter = fn;
        reporter_data = data;
}

void progress_report(const char *what, uint64_t done, uint64_t total)
{
        if (reporter)
                reporter(what, done, total, reporter_data);
}
