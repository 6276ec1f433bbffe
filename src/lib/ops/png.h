/* SPDX-License-Identifier: Apache-2.0 */
/* Splash logos: PNG only, fully decoded with libpng before anything is written. */
#ifndef BIMG_PNG_H
#define BIMG_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "balena-img.h"

struct png_facts {
        uint32_t width, height;
        int bit_depth;
        int color_type;         /* PNG_COLOR_TYPE_* */
};

/* Decode the whole image (every row, CRC and zlib checks on) within bounds:
 * at most 16384 x 16384 pixels and 256 MiB of decoded data. A file that is not
 * a PNG is refused saying what it is (JPEG, GIF, SVG, WebP, BMP, text ...); a
 * truncated or corrupt PNG says so. Errors start with origin. */
int png_check(const void *data, size_t len, const char *origin, struct png_facts *ret,
              struct bimg_error *err);

/* Start loading libpng in the background (base/dl.c): a logo will be checked. */
void png_preload(void);

#endif
