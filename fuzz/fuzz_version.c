/* SPDX-License-Identifier: Apache-2.0 */
/* bimg_version_parse / _compare / _cmp on arbitrary text: the input is split at
 * the first NUL into two versions, and the order must be antisymmetric. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct bimg_error err = { 0 };
        struct bimg_version va, vb;
        char *a = fuzz_strdup(data, size);
        const char *b;
        int ra, rb;

        if (!a)
                return 0;
        /* a ends at the first NUL; b is what follows it (or a itself) */
        b = strlen(a) < size ? a + strlen(a) + 1 : a;
        ra = bimg_version_parse(a, &va, &err);
        fuzz_check_error(ra, &err);
        memset(&err, 0, sizeof(err));
        rb = bimg_version_parse(b, &vb, &err);
        fuzz_check_error(rb, &err);
        if (ra == 0 && rb == 0) {
                int ab = bimg_version_compare(&va, &vb), ba = bimg_version_compare(&vb, &va);

                if ((ab < 0 && ba <= 0) || (ab > 0 && ba >= 0) || (ab == 0 && ba != 0))
                        abort();
                if (bimg_version_compare(&va, &va) != 0)
                        abort();
        }
        if ((bimg_version_cmp(a, b) < 0) != (bimg_version_cmp(b, a) > 0))
                abort();
        free(a);
        return 0;
}
