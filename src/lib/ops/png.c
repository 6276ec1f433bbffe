/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Splash logos: refuse anything plymouth could not show before it reaches an image.
 * A file that is not a PNG is named by its first bytes. A PNG is first walked chunk
 * by chunk, so a file that ends early is reported as truncated and no claimed chunk
 * length can make libpng allocate more than the file holds; then libpng decodes
 * every row from memory, which checks every CRC and the whole zlib stream.
 *
 * libpng (with zlib and libm under it) cost every command 0.2 ms at start, and
 * only splash logos need it: it is loaded on first use (style guide 2.8), after
 * the checks that need no decoding, through the sym_* table below.
 */
#include <inttypes.h>
#include <png.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/dl.h"
#include "ops/png.h"

static typeof(png_create_read_struct) *sym_png_create_read_struct;
static typeof(png_create_info_struct) *sym_png_create_info_struct;
static typeof(png_destroy_read_struct) *sym_png_destroy_read_struct;
static typeof(png_error) *sym_png_error;
static typeof(png_get_error_ptr) *sym_png_get_error_ptr;
static typeof(png_get_io_ptr) *sym_png_get_io_ptr;
static typeof(png_get_rowbytes) *sym_png_get_rowbytes;
static typeof(png_get_IHDR) *sym_png_get_IHDR;
static typeof(png_set_longjmp_fn) *sym_png_set_longjmp_fn;
static typeof(png_longjmp) *sym_png_longjmp;
static typeof(png_read_end) *sym_png_read_end;
static typeof(png_read_info) *sym_png_read_info;
static typeof(png_read_row) *sym_png_read_row;
static typeof(png_read_update_info) *sym_png_read_update_info;
static typeof(png_set_add_alpha) *sym_png_set_add_alpha;
static typeof(png_set_benign_errors) *sym_png_set_benign_errors;
static typeof(png_set_chunk_malloc_max) *sym_png_set_chunk_malloc_max;
static typeof(png_set_crc_action) *sym_png_set_crc_action;
static typeof(png_set_expand) *sym_png_set_expand;
static typeof(png_set_gray_to_rgb) *sym_png_set_gray_to_rgb;
static typeof(png_set_interlace_handling) *sym_png_set_interlace_handling;
static typeof(png_set_keep_unknown_chunks) *sym_png_set_keep_unknown_chunks;
static typeof(png_set_option) *sym_png_set_option;
static typeof(png_set_read_fn) *sym_png_set_read_fn;
static typeof(png_set_strip_16) *sym_png_set_strip_16;
static typeof(png_set_user_limits) *sym_png_set_user_limits;

static const struct dl_sym png_syms[] = {
        DL_SYM(png_create_read_struct),
        DL_SYM(png_create_info_struct),
        DL_SYM(png_destroy_read_struct),
        DL_SYM(png_error),
        DL_SYM(png_get_error_ptr),
        DL_SYM(png_get_io_ptr),
        DL_SYM(png_get_rowbytes),
        DL_SYM(png_get_IHDR),
        DL_SYM(png_set_longjmp_fn),
        DL_SYM(png_longjmp),
        DL_SYM(png_read_end),
        DL_SYM(png_read_info),
        DL_SYM(png_read_row),
        DL_SYM(png_read_update_info),
        DL_SYM(png_set_add_alpha),
        DL_SYM(png_set_benign_errors),
        DL_SYM(png_set_chunk_malloc_max),
        DL_SYM(png_set_crc_action),
        DL_SYM(png_set_expand),
        DL_SYM(png_set_gray_to_rgb),
        DL_SYM(png_set_interlace_handling),
        DL_SYM(png_set_keep_unknown_chunks),
        DL_SYM(png_set_option),
        DL_SYM(png_set_read_fn),
        DL_SYM(png_set_strip_16),
        DL_SYM(png_set_user_limits),
};

static struct dl_lib libpng = {
        .soname = "libpng16.so.16",
        .package = "libpng16-16",
        .purpose = "Splash logos",
        .syms = png_syms,
        .n_syms = sizeof(png_syms) / sizeof(png_syms[0]),
        .rank = 2,              /* checked after the config and the profiles */
};

void png_preload(void)
{
        dl_preload(&libpng);
}

#define MAX_SIDE 16384u                         /* pixels, either way */
#define MAX_DECODED (UINT64_C(256) << 20)       /* bytes of 8-bit RGBA, as plymouth holds it */
#define MAX_CHUNK (4u << 20)                    /* one chunk other than IDAT */

static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

#define HINT_PICTURE "convert it to PNG first; plymouth shows PNG only"
#define HINT_EXPORT "export the logo as a PNG picture"
#define HINT_ARCHIVE "unpack it and pass the PNG inside"
#define HINT_AGAIN "copy or export it again"

static const struct {
        const char *magic;
        size_t len;
        size_t offset;
        const char *name;
        const char *hint;
} magics[] = {
        { "\xff\xd8\xff", 3, 0, "a JPEG picture", HINT_PICTURE },
        { "GIF87a", 6, 0, "a GIF picture", HINT_PICTURE },
        { "GIF89a", 6, 0, "a GIF picture", HINT_PICTURE },
        { "II*\0", 4, 0, "a TIFF picture", HINT_PICTURE },
        { "MM\0*", 4, 0, "a TIFF picture", HINT_PICTURE },
        { "ftypavif", 8, 4, "an AVIF picture", HINT_PICTURE },
        { "ftypheic", 8, 4, "a HEIC picture", HINT_PICTURE },
        { "\x8aMNG\r\n\x1a\n", 8, 0, "an MNG animation", HINT_PICTURE },
        { "8BPS", 4, 0, "a Photoshop document", HINT_EXPORT },
        { "%PDF-", 5, 0, "a PDF document", HINT_EXPORT },
        { "PK\x03\x04", 4, 0, "a zip archive", HINT_ARCHIVE },
        { "PK\x05\x06", 4, 0, "a zip archive", HINT_ARCHIVE },
        { "\x1f\x8b", 2, 0, "a gzip file", HINT_ARCHIVE },
};

struct decoder {
        const unsigned char *data;
        size_t len, pos;
        bool truncated;         /* libpng asked for bytes past the end */
        bool too_large;
        bool out_of_memory;
        char error[200];        /* libpng's message */
        char warning[200];      /* its first warning: the reason behind "Invalid IHDR data" */
        png_bytep row;          /* one decoded row, freed by png_check */
        struct png_facts facts;
};

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* CRC-32 as in PNG (and zlib); bitwise, since it only runs over the 17-byte IHDR. */
static uint32_t crc32_of(const unsigned char *p, size_t n)
{
        uint32_t c = 0xffffffffu;

        while (n--) {
                c ^= *p++;
                for (int k = 0; k < 8; k++)
                        c = (c >> 1) ^ (0xedb88320u & -(c & 1u));
        }
        return ~c;
}

/* A chunk type for a message: four letters, anything else as '?'. */
static void chunk_name(const unsigned char *p, char ret_name[5])
{
        for (int i = 0; i < 4; i++) {
                unsigned char c = p[i];

                ret_name[i] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? (char)c : '?';
        }
        ret_name[4] = '\0';
}

static bool is_text(const unsigned char *p, size_t len)
{
        if (len > 1024)
                len = 1024;
        for (size_t i = 0; i < len; i++)
                if ((p[i] < 0x20 && (p[i] < '\t' || p[i] > '\r')) || p[i] == 0x7f)
                        return false;   /* a control character other than \t\n\v\f\r */
        return true;
}

static bool is_bmp(const unsigned char *p, size_t len)
{
        uint32_t dib;

        /* "BM" alone would catch text; also ask for a known DIB header size */
        if (len < 18 || p[0] != 'B' || p[1] != 'M')
                return false;
        dib = (uint32_t)p[14] | (uint32_t)p[15] << 8 | (uint32_t)p[16] << 16 |
              (uint32_t)p[17] << 24;
        return dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 ||
               dib == 124;
}

static bool starts_with_ci(const unsigned char *p, size_t len, const char *word)
{
        size_t n = strlen(word);

        return len >= n && strncasecmp((const char *)p, word, n) == 0;
}

/* Markup: SVG, HTML (a web page saved instead of its picture) or other XML. */
static const char *markup_name(const unsigned char *p, size_t len, const char **ret_hint)
{
        size_t head;

        if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
                p += 3;
                len -= 3;
        }
        while (len > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
                p++;
                len--;
        }
        if (len == 0 || *p != '<')
                return NULL;
        head = len < 4096 ? len : 4096;
        if (starts_with_ci(p, len, "<svg") || memmem(p, head, "<svg", 4)) {
                *ret_hint = "render it to PNG first (e.g. rsvg-convert -w 840 -o logo.png "
                            "logo.svg); plymouth shows PNG only";
                return "an SVG picture";
        }
        if (starts_with_ci(p, len, "<!doctype html") || starts_with_ci(p, len, "<html")) {
                *ret_hint = "download the picture itself, not the web page showing it";
                return "an HTML page";
        }
        if (starts_with_ci(p, len, "<?xml")) {
                *ret_hint = "the splash logo must be a PNG picture";
                return "an XML file";
        }
        return NULL;
}

/* Refuse what is not a PNG, saying what it is. Returns 0 when data starts with the
 * PNG signature. */
static int check_signature(const unsigned char *p, size_t len, const char *origin,
                           struct bimg_error *err)
{
        const char *name = NULL, *hint = NULL;

        if (len == 0)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is empty; pass a PNG picture",
                                 origin);
        if (len >= sizeof(signature) && memcmp(p, signature, sizeof(signature)) == 0)
                return 0;
        if (len < sizeof(signature) && memcmp(p, signature, len) == 0)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is a truncated PNG (the file ends "
                                 "after %zu byte%s, inside the signature); " HINT_AGAIN, origin,
                                 len, len == 1 ? "" : "s");
        if (len >= 4 && memcmp(p, signature, 4) == 0)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is a corrupt PNG: its signature "
                                 "was altered, as a text-mode (CR/LF) transfer does; copy it "
                                 "again in binary mode", origin);
        for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]) && !name; i++)
                if (len >= magics[i].offset + magics[i].len &&
                    memcmp(p + magics[i].offset, magics[i].magic, magics[i].len) == 0) {
                        name = magics[i].name;
                        hint = magics[i].hint;
                }
        if (!name && len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
                name = "a WebP picture";
                hint = HINT_PICTURE;
        }
        if (!name && is_bmp(p, len)) {
                name = "a BMP picture";
                hint = HINT_PICTURE;
        }
        if (!name && len >= 6 && p[0] == 0 && p[1] == 0 && (p[2] == 1 || p[2] == 2) &&
            p[3] == 0 && (p[4] | p[5]) != 0) {
                name = p[2] == 1 ? "a Windows icon (ICO)" : "a Windows cursor (CUR)";
                hint = HINT_PICTURE;
        }
        if (!name)
                name = markup_name(p, len, &hint);
        if (!name && is_text(p, len)) {
                name = "a text file";
                hint = "pass the PNG picture itself";
        }
        if (name)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is %s, not a PNG; %s", origin, name,
                                 hint);
        return bimg_fail(err, BIMG_E_INVALID, "'%s' is not a PNG (it does not start with the "
                         "PNG signature); the splash logo must be a PNG picture", origin);
}

/* Walk the chunks up to IEND before libpng sees them: a file that ends early is
 * truncated, and no chunk claims more bytes than the file holds, so libpng never
 * allocates for data that is not there. */
static int check_chunks(const unsigned char *p, size_t len, const char *origin,
                        struct bimg_error *err)
{
        size_t pos = sizeof(signature);
        char name[5] = "", where[64];
        bool has_idat = false;

        while (pos < len) {
                uint32_t length;

                if (len - pos < 8)
                        break;          /* a cut chunk header */
                length = be32(p + pos);
                if (length > PNG_UINT_31_MAX)
                        return 0;       /* libpng says what is wrong with it */
                chunk_name(p + pos + 4, name);
                if (len - pos - 8 < (uint64_t)length + 4) {
                        snprintf(where, sizeof(where), "inside its %s chunk", name);
                        goto truncated;
                }
                if (length > MAX_CHUNK && memcmp(p + pos + 4, "IDAT", 4) != 0)
                        return bimg_fail(err, BIMG_E_INVALID, "'%s' has a %s chunk of %" PRIu32
                                         " bytes, more than the %u MiB allowed; save it again "
                                         "without the metadata", origin, name, length,
                                         MAX_CHUNK >> 20);
                if (memcmp(p + pos + 4, "IEND", 4) == 0) {
                        if (!has_idat)
                                return bimg_fail(err, BIMG_E_INVALID, "'%s' is a corrupt PNG: "
                                                 "it has no image data (no IDAT chunk); "
                                                 HINT_AGAIN, origin);
                        return 0;       /* bytes after IEND are ignored, as libpng does */
                }
                has_idat |= memcmp(p + pos + 4, "IDAT", 4) == 0;
                pos += 12 + (size_t)length;
        }
        if (name[0])
                snprintf(where, sizeof(where), "after its %s chunk, with no IEND", name);
        else
                snprintf(where, sizeof(where), "right after the signature");
truncated:
        return bimg_fail(err, BIMG_E_INVALID, "'%s' is a truncated PNG (the file ends after "
                         "%zu byte%s, %s); " HINT_AGAIN, origin, len, len == 1 ? "" : "s",
                         where);
}

/* The size limits, from the raw IHDR, before libpng allocates anything: a header
 * claiming 65535x65535 fails here at once. Only a header whose CRC holds is trusted;
 * a damaged one is left for libpng to report as corrupt. */
static int check_size(const unsigned char *p, size_t len, const char *origin,
                      struct bimg_error *err)
{
        uint32_t w, h;
        uint64_t bytes;

        if (len < 33 || memcmp(p + 8, "\0\0\0\x0dIHDR", 8) != 0 ||
            crc32_of(p + 12, 17) != be32(p + 29))
                return 0;
        w = be32(p + 16);
        h = be32(p + 20);
        if (w == 0 || h == 0 || w > PNG_UINT_31_MAX || h > PNG_UINT_31_MAX)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is a corrupt PNG: its header "
                                 "gives a size of %" PRIu32 "x%" PRIu32 " pixels; " HINT_AGAIN,
                                 origin, w, h);
        if (w > MAX_SIDE || h > MAX_SIDE)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is %" PRIu32 "x%" PRIu32 " pixels, "
                                 "more than the %ux%u limit; scale it down (the default logo "
                                 "is 840x840)", origin, w, h, MAX_SIDE, MAX_SIDE);
        bytes = (uint64_t)w * h * 4;
        if (bytes > MAX_DECODED)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is %" PRIu32 "x%" PRIu32 " pixels, "
                                 "%" PRIu64 " MiB decoded, more than the %" PRIu64 " MiB limit; "
                                 "scale it down (the default logo is 840x840)", origin, w, h,
                                 (bytes + (1 << 20) - 1) >> 20, MAX_DECODED >> 20);
        return 0;
}

static void on_error(png_structp png, png_const_charp message)
{
        struct decoder *d = sym_png_get_error_ptr(png);
        size_t n = 0;

        /* copy, without the dots libpng puts in front of some messages to tell its
         * call sites apart ("IDAT: ..Too many IDATs found") */
        for (const char *p = message; *p && n + 1 < sizeof(d->error); p++) {
                bool at_start = n == 0 || (n >= 2 && memcmp(d->error + n - 2, ": ", 2) == 0);

                if (*p != '.' || !at_start)
                        d->error[n++] = *p;
        }
        d->error[n] = '\0';
        sym_png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message)
{
        struct decoder *d = sym_png_get_error_ptr(png);

        if (!d->warning[0])
                snprintf(d->warning, sizeof(d->warning), "%s", message);
}

static void read_data(png_structp png, png_bytep out, size_t n)
{
        struct decoder *d = sym_png_get_io_ptr(png);

        if (n > d->len - d->pos) {
                d->truncated = true;
                sym_png_error(png, "unexpected end of file");
        }
        memcpy(out, d->data + d->pos, n);
        d->pos += n;
}

/* Everything between setjmp and the last libpng call. On a libpng error control comes
 * back to the setjmp and the function returns -1 at once: no local set after setjmp is
 * read after the jump, so none needs to be volatile; what outlives it (the row buffer,
 * the facts) lives in *d, in the caller's frame. */
static int decode(png_structp png, png_infop info, struct decoder *d)
{
        png_uint_32 width, height;
        int depth, type, passes;
        size_t rowbytes;

        /* png_jmpbuf(png), which calls png_set_longjmp_fn, through the table */
        if (setjmp(*sym_png_set_longjmp_fn(png, longjmp, sizeof(jmp_buf))))
                return -1;
        sym_png_set_read_fn(png, d, read_data);
        sym_png_set_user_limits(png, MAX_SIDE, MAX_SIDE);
        sym_png_set_chunk_malloc_max(png, MAX_CHUNK);
        /* Parse no ancillary chunk but tRNS: none changes the pixels we check, and
         * this way no zTXt/iCCP/iTXt is inflated and kept (1000 of them at 4 MiB each
         * is a bomb). Skipped chunks still have their CRC checked. */
        sym_png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
        /* a damaged ancillary chunk is an error too, not a warning: the file is damaged */
        sym_png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
        /* onoff is a boolean: PNG_OPTION_OFF (2) would turn the check off */
        sym_png_set_option(png, PNG_IGNORE_ADLER32, 0);

        sym_png_read_info(png, info);
        sym_png_get_IHDR(png, info, &width, &height, &depth, &type, NULL, NULL, NULL);
        if ((uint64_t)width * height * 4 > MAX_DECODED) {       /* check_size did it too */
                d->too_large = true;
                sym_png_error(png, "image too large");
        }
        /* 8-bit RGBA whatever the input, the way plymouth reads it */
        sym_png_set_expand(png);        /* palette, grey below 8 bits, tRNS */
        sym_png_set_strip_16(png);
        sym_png_set_gray_to_rgb(png);
        sym_png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
        passes = sym_png_set_interlace_handling(png);
        sym_png_read_update_info(png, info);
        rowbytes = sym_png_get_rowbytes(png, info);
        if ((uint64_t)rowbytes * height > MAX_DECODED) {
                d->too_large = true;
                sym_png_error(png, "image too large");
        }
        d->row = malloc(rowbytes);
        if (!d->row) {
                d->out_of_memory = true;
                sym_png_error(png, "out of memory");
        }
        /* From here on a "benign" error is an error. libpng only warns about damage
         * found once the rows are complete: a bad Adler-32 or compressed data left over,
         * IDATs after other chunks. Before the image data it stays a warning, as for a
         * tRNS chunk that does not fit the image. */
        sym_png_set_benign_errors(png, 0);
        for (int pass = 0; pass < passes; pass++)
                for (png_uint_32 y = 0; y < height; y++)
                        sym_png_read_row(png, d->row, NULL);
        sym_png_read_end(png, info);    /* later chunks and IEND, with their CRCs */

        d->facts = (struct png_facts){
                .width = width,
                .height = height,
                .bit_depth = depth,
                .color_type = type,
        };
        return 0;
}

static int fail_decode(const struct decoder *d, const char *origin, struct bimg_error *err)
{
        if (d->truncated)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is a truncated PNG (the file ends "
                                 "after %zu bytes); " HINT_AGAIN, origin, d->len);
        if (d->out_of_memory || strcasestr(d->error, "out of memory"))
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory decoding '%s'", origin);
        if (d->too_large)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is too large to decode; scale it "
                                 "down (the default logo is 840x840)", origin);
        if (strcmp(d->error, "Invalid IHDR data") == 0 && d->warning[0])
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is a corrupt PNG: %s (%s); "
                                 HINT_AGAIN, origin, d->error, d->warning);
        return bimg_fail(err, BIMG_E_INVALID, "'%s' is a corrupt PNG: %s; " HINT_AGAIN, origin,
                         d->error);
}

int png_check(const void *data, size_t len, const char *origin, struct png_facts *ret,
              struct bimg_error *err)
{
        struct decoder d = { .data = data, .len = data ? len : 0 };
        png_structp png = NULL;
        png_infop info = NULL;
        int r = -1;

        if (!data)
                len = 0;
        if (check_signature(data, len, origin, err) < 0 ||
            check_chunks(data, len, origin, err) < 0 || check_size(data, len, origin, err) < 0)
                return -1;

        if (dl_load(&libpng, err) < 0)
                return -1;
        png = sym_png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, on_error, on_warning);
        if (png)
                info = sym_png_create_info_struct(png);
        if (!info) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory decoding '%s'", origin);
                goto out;
        }
        if (decode(png, info, &d) < 0) {
                fail_decode(&d, origin, err);
                goto out;
        }
        if (ret)
                *ret = d.facts;
        r = 0;
out:
        sym_png_destroy_read_struct(&png, &info, NULL);     /* accepts NULLs */
        free(d.row);
        return r;
}
