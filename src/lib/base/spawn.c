/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/dl.h"
#include "base/file.h"
#include "base/spawn.h"

/* No ~/.mtoolsrc, stable messages and dates, UTF-8 names, times in UTC. Only
 * the character type is UTF-8: the other categories stay the built-in C ones,
 * which every tool run would otherwise load from /usr/lib/locale (0.16 ms of
 * its 1 ms). The last slot passes SOURCE_DATE_EPOCH on, which mtools uses as
 * "now": with it, the same change gives the same bytes in any second. */
static char *tool_env[] = {
        "PATH=/usr/bin:/bin", "HOME=/nonexistent", "MTOOLSRC=/dev/null",
        "LC_CTYPE=C.UTF-8", "TZ=UTC", "MTOOLS_SKIP_CHECK=1",
        "MTOOLS_DATE_STRING=yyyy-mm-dd", "MTOOLS_TWENTY_FOUR_HOUR_CLOCK=1", NULL, NULL,
};

static char *const *environment(void)
{
        static char epoch[64];
        const char *value = getenv("SOURCE_DATE_EPOCH");
        size_t last = sizeof(tool_env) / sizeof(tool_env[0]) - 2;

        tool_env[last] = NULL;
        if (value && *value && strspn(value, "0123456789") == strlen(value) &&
            snprintf(epoch, sizeof(epoch), "SOURCE_DATE_EPOCH=%s", value) < (int)sizeof(epoch))
                tool_env[last] = epoch;
        return tool_env;
}

bool spawn_fixed_time(int64_t *ret_epoch)
{
        const char *set = environment()[sizeof(tool_env) / sizeof(tool_env[0]) - 2];

        if (set && ret_epoch)
                *ret_epoch = strtoll(set + strlen("SOURCE_DATE_EPOCH="), NULL, 10);
        return set != NULL;
}

/* Every signal's action reset in the child: set outright, one system call
 * each, where left to itself glibc asks for each action first (128 calls, made
 * while this process waits for the child to start the tool). */
static const posix_spawnattr_t *default_signals(void)
{
        static posix_spawnattr_t attr;
        static bool made;
        sigset_t all;

        if (!made) {
                sigfillset(&all);
                made = posix_spawnattr_init(&attr) == 0 &&
                       posix_spawnattr_setsigdefault(&attr, &all) == 0 &&
                       posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF) == 0;
        }
        return made ? &attr : NULL;
}

/* CPU seconds a tool may use. mtools works in well under a second (measured: mcopy
 * of 90 MB into FAT32, 0.07 s; mtype of it back, 0.04 s; mdir, mdel, 0.01 s), so
 * 10 s is over 100 times what a healthy filesystem needs. A damaged one can make
 * a tool loop forever: mdel walks a cluster chain that points back into itself,
 * and mtools ignores SIGTERM, so without a limit it outlives even a killed
 * balena-img. The kernel sends SIGXCPU at the limit and SIGKILL a second later. */
#define TOOL_CPU_LIMIT_S 10

static void read_as_one_line(int fd, char *buf, size_t size)
{
        ssize_t n;
        size_t len = 0;

        buf[0] = '\0';
        if (lseek(fd, 0, SEEK_SET) < 0)
                return;
        while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                len += (size_t)n;
        }
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
                        buf[i] = ' ';
        while (len > 0 && buf[len - 1] == ' ')  /* no trailing blank from the last newline */
                buf[--len] = '\0';
}

int spawn_start(const char *const argv[], int image_fd, int out_fd, uint64_t file_limit,
                struct spawn_job *job, struct bimg_error *err)
{
        posix_spawn_file_actions_t fa;
        int r, errfd;
        pid_t pid;

        errfd = memfd_create("bimg-stderr", MFD_CLOEXEC);       /* never fills up */
        if (errfd < 0)
                return bimg_fail_errno(err, BIMG_E_FAILURE, errno, "cannot run %s", argv[0]);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (out_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        else
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, errfd, 2);
        if (image_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, image_fd, 3);
        r = posix_spawn(&pid, argv[0], &fa, default_signals(), (char *const *)argv,
                        environment());
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {                   /* returned, not in errno */
                close(errfd);
                return bimg_fail_errno(err, BIMG_E_FAILURE, r, "cannot run %s", argv[0]);
        }
        /* set on the child itself: posix_spawn has no rlimit action, and an rlimit
         * set here holds across its exec (ESRCH: it has already exited) */
        prlimit(pid, RLIMIT_CPU, &(struct rlimit){ TOOL_CPU_LIMIT_S, TOOL_CPU_LIMIT_S + 1 },
                NULL);
        if (file_limit > 0)
                prlimit(pid, RLIMIT_FSIZE, &(struct rlimit){ file_limit, file_limit }, NULL);
        dl_start_preloads();            /* we wait now: a good time to load them */
        *job = (struct spawn_job){ pid, errfd, -1, argv[0] };
        return 0;
}

int spawn_finish(struct spawn_job *job, struct bimg_run_result *res, struct bimg_error *err)
{
        int status;

        res->cpu_limit_hit = false;
        while (waitpid(job->pid, &status, 0) < 0) {
                if (errno != EINTR) {
                        close(job->errfd);
                        return bimg_fail_errno(err, BIMG_E_FAILURE, errno, "waiting for %s",
                                               job->tool);
                }
        }
        read_as_one_line(job->errfd, res->stderr_text, sizeof(res->stderr_text));
        close(job->errfd);
        res->cpu_limit_hit = WIFSIGNALED(status) &&
                             (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL);
        if (res->cpu_limit_hit)
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s was stopped after %d s of CPU "
                                 "time (it needs well under one)", job->tool, TOOL_CPU_LIMIT_S);
        if (WIFSIGNALED(status))
                return bimg_fail(err, BIMG_E_IO, "%s killed by signal %d", job->tool,
                                 WTERMSIG(status));
        res->exit_status = WEXITSTATUS(status);
        return 0;
}

void spawn_abandon(struct spawn_job *job)
{
        struct bimg_error ignored = { 0 };
        struct bimg_run_result res;

        kill(job->pid, SIGKILL);
        spawn_finish(job, &res, &ignored);      /* reaped: what it says is not wanted */
        if (job->out_fd >= 0)
                close(job->out_fd);
        job->out_fd = -1;
}

int bimg_run(const char *const argv[], int image_fd, int out_fd,
             struct bimg_run_result *res, struct bimg_error *err)
{
        struct spawn_job job;

        res->cpu_limit_hit = false;
        if (spawn_start(argv, image_fd, out_fd, 0, &job, err) < 0)
                return -1;
        return spawn_finish(&job, res, err);
}

int spawn_start_captured(const char *const argv[], int image_fd, uint64_t file_limit,
                         struct spawn_job *job, struct bimg_error *err)
{
        int out = memfd_create("bimg-stdout", MFD_CLOEXEC);     /* never fills up either */

        if (out < 0)
                return bimg_fail_errno(err, BIMG_E_FAILURE, errno, "cannot run %s", argv[0]);
        if (spawn_start(argv, image_fd, out, file_limit, job, err) < 0) {
                close(out);
                return -1;
        }
        job->out_fd = out;
        return 0;
}

int spawn_finish_captured(struct spawn_job *job, size_t max, char **ret_out, size_t *ret_len,
                          struct bimg_run_result *res, struct bimg_error *err)
{
        int r = spawn_finish(job, res, err);

        if (r == 0)
                r = file_read_fd(job->out_fd, max, job->tool, ret_out, ret_len, err);
        close(job->out_fd);
        job->out_fd = -1;
        return r;
}

int bimg_run_capture(const char *const argv[], int image_fd, char **ret_out, size_t *ret_len,
                     struct bimg_run_result *res, struct bimg_error *err)
{
        struct spawn_job job;

        res->cpu_limit_hit = false;
        if (spawn_start_captured(argv, image_fd, 0, &job, err) < 0)
                return -1;
        return spawn_finish_captured(&job, SIZE_MAX, ret_out, ret_len, res, err);
}
