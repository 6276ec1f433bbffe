/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <stdio.h>

#include "base/dl.h"

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
