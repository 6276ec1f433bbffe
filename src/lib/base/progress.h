/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BIMG_PROGRESS_H
#define BIMG_PROGRESS_H

#include <stdint.h>

#include "balena-img.h"

/* Tell the reporter set with bimg_set_progress (if any) how far a step is;
 * done == total ends the step. */
void progress_report(const char *what, uint64_t done, uint64_t total);

#endif
