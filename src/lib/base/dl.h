/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heavy libraries (libnm, libcrypto, libarchive) are loaded on first use, not
 * at start (style guide 2.8): each owning file keeps a table of function
 * pointers, declared with the real prototypes, and fills it with dl_load().
 */
#ifndef BIMG_DL_H
#define BIMG_DL_H

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
        void *handle;           /* NULL until loaded; never unloaded */
};

/* Load lib once and resolve every symbol; later calls return at once. A missing
 * library or symbol is one clear error naming the package to install
 * (BIMG_E_UNSUPPORTED). */
int dl_load(struct dl_lib *lib, const struct dl_sym *syms, size_t n, struct bimg_error *err);

/* Load lib in a background thread (libnm takes about 4 ms), so the dl_load() that
 * needs it later finds it loaded; a failure is left to dl_load() to report.
 * dl_preload() only notes it: the thread starts at dl_start_preloads(), which
 * spawn.c calls once a tool runs, since from then on this process mostly waits
 * (loading beside its own work only slows that work: both map memory).
 * dl_settle() waits for every such load: call it before fork(), as a child of a
 * process in the middle of dlopen() could never load anything; it also runs at
 * exit. */
void dl_preload(const struct dl_lib *lib);
void dl_start_preloads(void);
void dl_settle(void);

#endif
