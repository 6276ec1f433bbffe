/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "base/dl.h"

#define PRELOADS_MAX 4

static struct {
        const struct dl_lib *lib;
        pthread_t thread;
        bool started;
} preloads[PRELOADS_MAX];
static size_t n_preloads;

/* The handle is not kept: dl_load()'s own dlopen() then finds the library loaded. */
static void *load(void *arg)
{
        const struct dl_lib *lib = arg;

        dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        return NULL;
}

void dl_preload(const struct dl_lib *lib)
{
        struct rlimit as;

        /* under an address-space limit only what is surely needed is loaded: a
         * library that fails to start for lack of memory may say so on stderr
         * (GnuTLS, under libnm, does), about a run that never needed it */
        if (getrlimit(RLIMIT_AS, &as) < 0 || as.rlim_cur != RLIM_INFINITY)
                return;
        if (lib->handle || n_preloads == PRELOADS_MAX)
                return;
        for (size_t i = 0; i < n_preloads; i++)
                if (preloads[i].lib == lib)
                        return;
        preloads[n_preloads].lib = lib;
        preloads[n_preloads++].started = false;
}

void dl_start_preloads(void)
{
        static bool settle_at_exit;

        for (size_t i = 0; i < n_preloads; i++) {
                if (preloads[i].started || !preloads[i].lib)
                        continue;
                preloads[i].started = pthread_create(&preloads[i].thread, NULL, load,
                                                     (void *)preloads[i].lib) == 0;
                if (!preloads[i].started)
                        preloads[i].lib = NULL; /* dl_load() loads it when needed */
                /* joined at exit too: a run that ends before it needs the library
                 * leaves no thread (and its stack) behind */
                if (preloads[i].started && !settle_at_exit)
                        settle_at_exit = atexit(dl_settle) == 0;
        }
}

void dl_settle(void)
{
        for (size_t i = 0; i < n_preloads; i++)
                if (preloads[i].started)
                        pthread_join(preloads[i].thread, NULL);
        n_preloads = 0;
}

int dl_load(struct dl_lib *lib, const struct dl_sym *syms, size_t n, struct bimg_error *err)
{
        void *handle;

        if (lib->handle)
                return 0;
        handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (!handle)
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s need %s, which is not installed: "
                                 "apt-get install %s", lib->purpose, lib->soname, lib->package);
        for (size_t i = 0; i < n; i++) {
                void *fn = dlsym(handle, syms[i].name);

                if (!fn) {
                        dlclose(handle);
                        return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s: %s has no '%s'; install "
                                         "a newer %s", lib->purpose, lib->soname, syms[i].name,
                                         lib->package);
                }
                *syms[i].fn = fn;
        }
        lib->handle = handle;
        return 0;
}
