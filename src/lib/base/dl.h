/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heavy libraries (libnm, libcrypto, libarchive, libpng) are loaded on first
 * use, not at start (style guide 2.8): each owning file keeps a table of
 * function pointers, declared with the real prototypes, and fills it with
 * dl_load().
 */
#ifndef BIMG_DL_H
#define BIMG_DL_H

#include <stdbool.h>
#include <stddef.h>

#include "balena-img.h"

struct dl_sym {
        const char *name;
        void **fn;              /* where to store the address: (void **)&sym_foo */
};

#define DL_SYM(f) { #f, (void **)&sym_##f }

struct dl_lib {
        const char *soname;     /* "libnm.so.0" */
        const char *package;    /* Debian package that ships it: "libnm0" */
        const char *purpose;    /* "NetworkManager profiles", for the message */
        const struct dl_sym *syms;
        size_t n_syms;
        int rank;               /* preloads: lower ranks load first (needed sooner) */
        void *handle;           /* NULL until loaded; never unloaded */
        bool preloading;        /* queued for, or in, the preload thread */
};

/* Load lib once and resolve every symbol; later calls return at once. A missing
 * library or symbol is one clear error naming the package to install
 * (BIMG_E_UNSUPPORTED). */
int dl_load(struct dl_lib *lib, struct bimg_error *err);

/* Load lib in the background (libnm takes about 3 ms of CPU), so the dl_load()
 * that needs it later finds it loaded; a failure is left to dl_load() to
 * report. dl_preload() only notes it: one thread starts at dl_start_preloads(),
 * which spawn.c calls once a tool runs, since from then on this process mostly
 * waits. That thread also resolves the symbols: the loader takes one lock for
 * dlopen() and dlsym(), and this thread must not queue behind a load it does
 * not need yet. dl_settle() waits for every such load: call it before fork(),
 * as a child of a process in the middle of dlopen() could never load anything;
 * it also runs at exit. */
void dl_preload(struct dl_lib *lib);
void dl_start_preloads(void);
void dl_settle(void);

#endif
