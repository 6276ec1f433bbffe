/* SPDX-License-Identifier: Apache-2.0 */
/* Splash logos: png_check decodes the whole image with libpng within bounds,
 * or says what the file is instead. */
#include "fuzz.h"
#include "ops/png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct bimg_error err = { 0 };
        struct png_facts facts;
        int r;

        r = png_check(data, size, "logo.png", &facts, &err);
        fuzz_check_error(r, &err);
        if (r == 0 && (facts.width == 0 || facts.height == 0 || facts.width > 16384 ||
                       facts.height > 16384))
                abort();        /* the documented bounds hold for what is accepted */
        return 0;
}
