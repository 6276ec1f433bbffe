/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A progress bar on stderr for steps that take longer than a second, drawn
 * only when stderr is a terminal and --quiet was not given. stdout (results,
 * --json) never sees it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

bool cli_quiet;

/* seconds a step runs before its bar appears; BALENA_IMG_PROGRESS_DELAY sets it */
static double delay = 1.0;

struct bar {
        char what[32];          /* the step being drawn */
        double started, drawn;  /* seconds */
        bool visible;
};

static struct bar bar;

double cli_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw(const char *what, uint64_t done, uint64_t total, void *data)
{
        double t = cli_now(), rate, fraction = total ? (double)done / (double)total : 1.0;
        char hashes[31], size[32];
        int filled = (int)(fraction * 30.0);

        (void)data;
        if (cli_quiet)
                return;
        if (strcmp(bar.what, what) != 0) {      /* a new step starts its clock */
                snprintf(bar.what, sizeof(bar.what), "%s", what);
                bar.started = t;
                bar.drawn = 0;
        }
        if (done >= total) {
                if (bar.visible)
                        fprintf(stderr, "\r\033[K");
                bar.visible = false;
                bar.what[0] = '\0';
                return;
        }
        /* quick steps draw nothing; long ones redraw ten times a second */
        if (t - bar.started < delay || t - bar.drawn < 0.1)
                return;
        memset(hashes, '#', (size_t)filled);
        memset(hashes + filled, '.', (size_t)(30 - filled));
        hashes[30] = '\0';
        rate = (double)done / (t - bar.started);
        cli_format_size((uint64_t)rate, size, sizeof(size));
        fprintf(stderr, "\r\033[K%-11s [%s] %3d%%  %s/s", what, hashes, (int)(fraction * 100),
                size);
        fflush(stderr);
        bar.drawn = t;
        bar.visible = true;
}

void cli_progress_init(void)
{
        const char *env = getenv("BALENA_IMG_PROGRESS_DELAY");
        char *end;
        double d;

        if (env && *env && (d = strtod(env, &end)) >= 0 && *end == '\0')
                delay = d;
        if (isatty(STDERR_FILENO))
                bimg_set_progress(draw, NULL);
}

bool cli_common_option(int opt, struct bimg_error *err)
{
        char *end;
        unsigned long seconds;

        if (opt == CLI_OPT_QUIET) {
                cli_quiet = true;
                return true;
        }
        if (opt != CLI_OPT_WAIT)
                return false;
        seconds = strtoul(optarg, &end, 10);
        if (!optarg[0] || *end || optarg[0] == '-' || seconds > 86400) {
                /* the caller's unknown-option path reports this first error */
                bimg_fail(err, BIMG_E_USAGE, "--wait '%s': expected seconds, 0 to 86400",
                          optarg);
                return false;
        }
        bimg_set_lock_wait((unsigned)seconds);
        return true;
}
