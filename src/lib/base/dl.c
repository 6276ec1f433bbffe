/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "base/asan.h"
#include "base/dl.h"

#define PRELOADS_MAX 4

/* A library's own references are looked up in its own dependencies first, not
 * first in the program and its libraries: binding libnm's thousands of them
 * costs 12% less CPU (a configure with a profile, 3% less time). Such a library
 * sees libc's own stdout and stderr, not the program's copies of them: harmless,
 * as neither is ever assigned. Not under AddressSanitizer, whose malloc must be
 * found first. */
#define DL_DEEPBIND (BIMG_ASAN ? 0 : RTLD_DEEPBIND)

/* The queue and every lib's handle and preloading flag are shared with the
 * preload thread: both are read and written under this lock only. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loaded = PTHREAD_COND_INITIALIZER;
static struct dl_lib *queue[PRELOADS_MAX];
static size_t n_queued;
static bool running;            /* the thread takes from the queue until it is empty */
static bool started;            /* main thread only: a thread to join */
static pthread_t thread;

/* dlopen() and every symbol; NULL and *ret_missing set if one is missing. */
static void *open_and_resolve(const struct dl_lib *lib, const char **ret_missing)
{
        void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL | DL_DEEPBIND);

        *ret_missing = NULL;
        if (!handle)
                return NULL;
        for (size_t i = 0; i < lib->n_syms; i++) {
                void *fn = dlsym(handle, lib->syms[i].name);

                if (!fn) {
                        *ret_missing = lib->syms[i].name;
                        dlclose(handle);
                        return NULL;
                }
                *lib->syms[i].fn = fn;
        }
        return handle;
}

/* The queued lib of lowest rank, taken off the queue; NULL if none. */
static struct dl_lib *take_next(void)
{
        size_t best = 0;
        struct dl_lib *lib;

        if (n_queued == 0)
                return NULL;
        for (size_t i = 1; i < n_queued; i++)
                if (queue[i]->rank < queue[best]->rank)
                        best = i;
        lib = queue[best];
        queue[best] = queue[--n_queued];
        return lib;
}

static void *preload_all(void *unused)
{
        struct dl_lib *lib;

        (void)unused;
        pthread_mutex_lock(&lock);
        while ((lib = take_next())) {
                const char *missing;
                void *handle;

                pthread_mutex_unlock(&lock);
                handle = open_and_resolve(lib, &missing);
                pthread_mutex_lock(&lock);
                lib->handle = handle;   /* on failure dl_load() tries again and says why */
                lib->preloading = false;
                pthread_cond_broadcast(&loaded);
        }
        running = false;
        pthread_mutex_unlock(&lock);
        return NULL;
}

void dl_preload(struct dl_lib *lib)
{
        struct rlimit as;

        /* under an address-space limit only what is surely needed is loaded: a
         * library that fails to start for lack of memory may say so on stderr
         * (GnuTLS, under libnm, does), about a run that never needed it */
        if (getrlimit(RLIMIT_AS, &as) < 0 || as.rlim_cur != RLIM_INFINITY)
                return;
        pthread_mutex_lock(&lock);
        if (!lib->handle && !lib->preloading && n_queued < PRELOADS_MAX) {
                lib->preloading = true;
                queue[n_queued++] = lib;
        }
        pthread_mutex_unlock(&lock);
}

/* Nothing will take the queue: what is on it is loaded by dl_load() when needed. */
static void drop_queue(void)
{
        while (n_queued > 0)
                queue[--n_queued]->preloading = false;
}

void dl_start_preloads(void)
{
        static bool settle_at_exit;
        bool start;

        pthread_mutex_lock(&lock);
        start = n_queued > 0 && !running;
        pthread_mutex_unlock(&lock);
        if (!start)
                return;
        dl_settle();                    /* a thread that finished an earlier queue */
        pthread_mutex_lock(&lock);
        running = pthread_create(&thread, NULL, preload_all, NULL) == 0;
        started = running;
        if (!running)
                drop_queue();
        pthread_mutex_unlock(&lock);
        /* joined at exit too: a run that ends before it needs the library
         * leaves no thread (and its stack) behind */
        if (started && !settle_at_exit)
                settle_at_exit = atexit(dl_settle) == 0;
}

void dl_settle(void)
{
        if (started)
                pthread_join(thread, NULL);
        started = false;
}

int dl_load(struct dl_lib *lib, struct bimg_error *err)
{
        const char *missing;
        void *handle;

        pthread_mutex_lock(&lock);
        while (lib->preloading && running)
                pthread_cond_wait(&loaded, &lock);
        if (lib->preloading) {          /* queued, but no thread will come for it */
                for (size_t i = 0; i < n_queued; i++)
                        if (queue[i] == lib)
                                queue[i] = queue[--n_queued];
                lib->preloading = false;
        }
        handle = lib->handle;
        pthread_mutex_unlock(&lock);
        if (handle)
                return 0;
        handle = open_and_resolve(lib, &missing);
        if (!handle && missing)
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s: %s has no '%s'; install a newer "
                                 "%s", lib->purpose, lib->soname, missing, lib->package);
        if (!handle)
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s need %s, which is not installed: "
                                 "apt-get install %s", lib->purpose, lib->soname, lib->package);
        pthread_mutex_lock(&lock);
        lib->handle = handle;
        pthread_mutex_unlock(&lock);
        return 0;
}
