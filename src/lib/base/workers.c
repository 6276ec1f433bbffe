/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workers are forked, not threads: every library below us (libext2fs, libnm,
 * libarchive) then runs single-threaded, as it was written to. Two
 * SOCK_SEQPACKET socket pairs connect them to the parent: task numbers go out
 * on one, fixed-size records come back on the other. A packet is never split
 * or merged, so any number of workers can share each socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/dl.h"
#include "base/workers.h"

static ssize_t recv_retry(int fd, void *buf, size_t len)
{
        ssize_t n;

        do
                n = recv(fd, buf, len, 0);
        while (n < 0 && errno == EINTR);
        return n;
}

static bool send_index(int fd, size_t index)
{
        uint64_t v = index;

        return send(fd, &v, sizeof(v), MSG_NOSIGNAL) == (ssize_t)sizeof(v);
}

/* The worker's life: take a task, do it, report, until the parent stops. */
static void __attribute__((noreturn)) serve(int tasks, int results, size_t record_size,
                                            workers_task_fn task, void *data)
{
        unsigned char *record = malloc(sizeof(uint64_t) + record_size);
        uint64_t index;

        if (!record)
                _exit(1);
        while (recv_retry(tasks, &index, sizeof(index)) == (ssize_t)sizeof(index)) {
                memset(record, 0, sizeof(uint64_t) + record_size);
                memcpy(record, &index, sizeof(index));
                task((size_t)index, record + sizeof(uint64_t), data);
                if (send(results, record, sizeof(uint64_t) + record_size, MSG_NOSIGNAL) < 0)
                        _exit(1);
        }
        _exit(0);       /* no atexit handlers, no second flush of the parent's stdio */
}

static int run_here(size_t n_tasks, size_t record_size, workers_task_fn task,
                    workers_done_fn done, void *data, struct bimg_error *err)
{
        void *record = malloc(record_size);

        if (!record)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        for (size_t i = 0; i < n_tasks; i++) {
                memset(record, 0, record_size);
                task(i, record, data);
                if (!done(i, record, data))
                        break;
        }
        free(record);
        return 0;
}

int workers_run(unsigned n_workers, size_t n_tasks, size_t record_size, workers_task_fn task,
                workers_done_fn done, void *data, struct bimg_error *err)
{
        int tasks[2] = { -1, -1 }, results[2] = { -1, -1 };
        size_t next = 0, reported = 0, message = sizeof(uint64_t) + record_size;
        unsigned char *record = NULL, *outstanding = NULL;
        pid_t *pids = NULL;
        unsigned started = 0;
        bool stopped = false;
        int ret = -1;

        if (n_workers > n_tasks)
                n_workers = (unsigned)n_tasks;
        if (n_workers <= 1)
                return run_here(n_tasks, record_size, task, done, data, err);
        if (message > WORKERS_MAX_RECORD)
                return bimg_fail(err, BIMG_E_FAILURE, "worker record too large");
        record = malloc(message);
        outstanding = calloc(n_tasks, 1);
        pids = calloc(n_workers, sizeof(*pids));
        if (!record || !outstanding || !pids) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tasks) < 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, results) < 0) {
                bimg_fail_errno(err, BIMG_E_FAILURE, errno, "cannot start workers");
                goto out;
        }
        fflush(NULL);   /* a child must not inherit unwritten output */
        dl_settle();    /* nor a dlopen() half done */
        for (; started < n_workers; started++) {
                pid_t pid = fork();

                if (pid < 0) {
                        bimg_fail_errno(err, BIMG_E_FAILURE, errno, "cannot start workers");
                        goto out;
                }
                if (pid == 0) {
                        close(tasks[0]);
                        close(results[0]);
                        serve(tasks[1], results[1], record_size, task, data);
                }
                pids[started] = pid;
        }
        close(tasks[1]);
        close(results[1]);
        tasks[1] = results[1] = -1;
        /* one task in flight per worker; the next goes out when one reports */
        for (; next < n_workers; next++) {
                outstanding[next] = send_index(tasks[0], next);
        }
        ret = 0;
        while (reported < next) {
                ssize_t n = recv_retry(results[0], record, message);
                uint64_t index;

                if (n != (ssize_t)message)
                        break;  /* every worker is gone */
                memcpy(&index, record, sizeof(index));
                if (index >= n_tasks || !outstanding[index])
                        continue;
                outstanding[index] = 0;
                reported++;
                if (!done((size_t)index, record + sizeof(uint64_t), data))
                        stopped = true;
                if (!stopped && next < n_tasks) {
                        outstanding[next] = send_index(tasks[0], next);
                        next++;
                }
                if (stopped || next == n_tasks) {
                        shutdown(tasks[0], SHUT_WR);    /* idle workers see the end */
                }
        }
        for (size_t i = 0; i < next; i++)       /* handed out, never reported */
                if (outstanding[i])
                        done(i, NULL, data);
out:
        if (tasks[0] >= 0)
                close(tasks[0]);
        if (results[0] >= 0)
                close(results[0]);
        if (tasks[1] >= 0)
                close(tasks[1]);
        if (results[1] >= 0)
                close(results[1]);
        for (unsigned i = 0; i < started; i++) {
                if (ret < 0)
                        kill(pids[i], SIGTERM);
                while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        free(pids);
        free(outstanding);
        free(record);
        return ret;
}
