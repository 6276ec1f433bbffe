/* SPDX-License-Identifier: Apache-2.0 */
/* bimg_osrelease_parse on arbitrary bytes, then every key inspect reads. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const keys[] = {
                "ID", "NAME", "VERSION", "VERSION_ID", "META_BALENA_VERSION", "BALENA_BOARD_REV",
                "VARIANT", "VARIANT_ID", "MACHINE", "SLUG", "PRETTY_NAME", "", "=",
        };
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr = NULL;
        int r;

        r = bimg_osrelease_parse((const char *)data, size, &osr, &err);
        fuzz_check_error(r, &err);
        if (r < 0)
                return 0;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                const char *v = bimg_osrelease_get(osr, keys[i]);

                if (v)
                        (void)strlen(v);
        }
        bimg_osrelease_free(osr);
        return 0;
}
