/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner: times the variants of one benchmark case against each other.
 *
 *   runner CASE RUNS WARMUP JSON_OUT VARIANT_FILE...
 *
 * A variant file holds "name=NAME", then optionally "prepare=SHELL COMMAND",
 * then one "arg=WORD" line per argument of the timed command. Rounds go A B C
 * A B C ..., so a machine that speeds up or slows down during the run moves
 * every variant alike; the first WARMUP rounds are not counted. Before each
 * timed run its prepare command runs (untimed) through /bin/sh, e.g. to put a
 * fresh copy of the image in place. The timed command is started directly
 * (posix_spawn, no shell) from a small forked process that then reads
 * getrusage(RUSAGE_CHILDREN): the CPU time of the command and every process it
 * waited for, and the peak RSS of the largest process it ran, scripts'
 * children included. A run that fails stops the benchmark.
 *
 * Prints one table row per variant (median, min, max wall ms, median CPU ms,
 * peak RSS MiB, ratios of the first variant to it) and writes the same as JSON.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ARGS_MAX 128

struct variant {
        char name[64];
        char *prepare;
        char *argv[ARGS_MAX + 1];
        double *ms;             /* per counted round */
        double *cpu_ms;         /* user + system CPU of the command and its children */
        long rss_kb;            /* largest over all runs */
};

struct sample {
        double ms, cpu_ms;
        long rss_kb;
        int status;
};

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fprintf(stderr, "runner: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

static void load(struct variant *v, const char *path)
{
        FILE *f = fopen(path, "r");
        char line[8192];
        size_t n = 0;

        if (!f)
                die("cannot read '%s'", path);
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (strncmp(line, "name=", 5) == 0)
                        snprintf(v->name, sizeof(v->name), "%.63s", line + 5);
                else if (strncmp(line, "prepare=", 8) == 0)
                        v->prepare = strdup(line + 8);
                else if (strncmp(line, "arg=", 4) == 0 && n < ARGS_MAX)
                        v->argv[n++] = strdup(line + 4);
        }
        fclose(f);
        if (!v->name[0] || n == 0)
                die("'%s' needs name= and at least one arg=", path);
}

static double now_ms(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* In a forked process: start argv, wait, report wall time, CPU time, peak RSS,
 * status. */
static void measure(char *const argv[], int report)
{
        posix_spawn_file_actions_t fa;
        struct sample s = { 0 };
        struct rusage ru;
        double start;
        pid_t pid;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        start = now_ms();
        if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
                s.status = 127;
        } else {
                while (waitpid(pid, &s.status, 0) < 0 && errno == EINTR)
                        ;
                s.ms = now_ms() - start;
        }
        getrusage(RUSAGE_CHILDREN, &ru);
        s.cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        s.rss_kb = ru.ru_maxrss;
        if (write(report, &s, sizeof(s)) != (ssize_t)sizeof(s))
                _exit(1);
        _exit(0);
}

static struct sample run_once(const struct variant *v)
{
        struct sample s = { .status = -1 };
        int fds[2], status;
        pid_t pid;

        if (v->prepare && system(v->prepare) != 0)
                die("prepare of '%s' failed", v->name);
        if (pipe(fds) < 0)
                die("%s", "pipe failed");
        pid = fork();
        if (pid == 0) {
                close(fds[0]);
                measure(v->argv, fds[1]);
        }
        close(fds[1]);
        if (pid < 0 || read(fds[0], &s, sizeof(s)) != (ssize_t)sizeof(s))
                die("cannot time '%s'", v->name);
        close(fds[0]);
        waitpid(pid, &status, 0);
        if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0) {
                fprintf(stderr, "runner: '%s' failed (status 0x%x):", v->name, s.status);
                for (char *const *a = v->argv; *a; a++)
                        fprintf(stderr, " %s", *a);
                fputc('\n', stderr);
                exit(1);
        }
        return s;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
        double *c = malloc((size_t)n * sizeof(*c)), m;

        memcpy(c, v, (size_t)n * sizeof(*c));
        qsort(c, (size_t)n, sizeof(*c), cmp_double);
        m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
        free(c);
        return m;
}

static double min_of(const double *v, int n)
{
        double m = v[0];

        for (int i = 1; i < n; i++)
                m = v[i] < m ? v[i] : m;
        return m;
}

static double max_of(const double *v, int n)
{
        double m = v[0];

        for (int i = 1; i < n; i++)
                m = v[i] > m ? v[i] : m;
        return m;
}

/* The median of first[i] / other[i] over the rounds: both ran side by side. */
static double paired_ratio(const struct variant *first, const struct variant *other, int n)
{
        double *r = malloc((size_t)n * sizeof(*r)), m;

        for (int i = 0; i < n; i++)
                r[i] = first->ms[i] / other->ms[i];
        m = median(r, n);
        free(r);
        return m;
}

static void json_string(FILE *f, const char *s)
{
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fputc('\\', f);
                if ((unsigned char)*s >= 0x20)
                        fputc(*s, f);
        }
        fputc('"', f);
}

int main(int argc, char **argv)
{
        int runs, warmup, k;
        struct variant *v;
        FILE *json;

        if (argc < 6)
                die("%s", "usage: runner CASE RUNS WARMUP JSON_OUT VARIANT_FILE...");
        runs = atoi(argv[2]);
        warmup = atoi(argv[3]);
        k = argc - 5;
        if (runs < 1 || warmup < 0)
                die("%s", "RUNS must be at least 1 and WARMUP at least 0");
        v = calloc((size_t)k, sizeof(*v));
        for (int i = 0; i < k; i++) {
                load(&v[i], argv[5 + i]);
                v[i].ms = calloc((size_t)runs, sizeof(double));
                v[i].cpu_ms = calloc((size_t)runs, sizeof(double));
        }
        for (int round = -warmup; round < runs; round++) {
                for (int i = 0; i < k; i++) {
                        struct sample s = run_once(&v[i]);

                        if (round < 0)
                                continue;
                        v[i].ms[round] = s.ms;
                        v[i].cpu_ms[round] = s.cpu_ms;
                        v[i].rss_kb = s.rss_kb > v[i].rss_kb ? s.rss_kb : v[i].rss_kb;
                }
        }
        json = fopen(argv[4], "w");
        if (!json)
                die("cannot write '%s'", argv[4]);
        fprintf(json, "{\"case\": ");
        json_string(json, argv[1]);
        fprintf(json, ", \"runs\": %d, \"warmup\": %d, \"variants\": [", runs, warmup);
        printf("\n%s (%d runs after %d warm-up rounds, alternating)\n", argv[1], runs, warmup);
        printf("  %-24s %9s %9s %9s %9s %9s  %s\n", "variant", "median ms", "min ms", "max ms",
               "CPU ms", "peak MiB", "balena-img/variant (medians; paired)");
        for (int i = 0; i < k; i++) {
                double med = median(v[i].ms, runs), first = median(v[0].ms, runs);
                double paired = paired_ratio(&v[0], &v[i], runs);
                double cpu = median(v[i].cpu_ms, runs);

                printf("  %-24s %9.2f %9.2f %9.2f %9.2f %9.1f", v[i].name, med,
                       min_of(v[i].ms, runs), max_of(v[i].ms, runs), cpu,
                       (double)v[i].rss_kb / 1024);
                if (i > 0)
                        printf("  %.3f; %.3f", first / med, paired);
                printf("\n");
                fprintf(json, "%s{\"name\": ", i ? ", " : "");
                json_string(json, v[i].name);
                fprintf(json, ", \"median_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f, "
                        "\"cpu_median_ms\": %.3f, \"peak_rss_kb\": %ld, "
                        "\"ratio_of_medians\": %.4f, \"paired_ratio\": %.4f, \"ms\": [", med,
                        min_of(v[i].ms, runs), max_of(v[i].ms, runs), cpu, v[i].rss_kb,
                        first / med, paired);
                for (int r = 0; r < runs; r++)
                        fprintf(json, "%s%.3f", r ? ", " : "", v[i].ms[r]);
                fprintf(json, "]}");
        }
        fprintf(json, "]}\n");
        fclose(json);
        return 0;
}
