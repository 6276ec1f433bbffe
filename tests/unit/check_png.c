/* SPDX-License-Identifier: Apache-2.0 */
/*
 * png_check: PNGs are made here by a small encoder (zlib's compress2 and crc32, no
 * filters), then cut, damaged or swapped for other formats. Every failure must be
 * one line that starts with the quoted origin and leaves the facts untouched.
 */
#include <check.h>
#include <png.h>                /* PNG_COLOR_TYPE_* */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "ops/png.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ORIGIN "logo.png"
#define GREY PNG_COLOR_TYPE_GRAY
#define GREY_ALPHA PNG_COLOR_TYPE_GRAY_ALPHA
#define RGB PNG_COLOR_TYPE_RGB
#define RGBA PNG_COLOR_TYPE_RGB_ALPHA
#define PALETTE PNG_COLOR_TYPE_PALETTE
#define PIC(w_, h_, type_, depth_, ...) \
        { .w = (w_), .h = (h_), .type = (type_), .depth = (depth_), __VA_ARGS__ }

/* ---- a tiny PNG encoder ------------------------------------------------- */

struct buf {
        unsigned char *p;
        size_t len, cap;
};

struct pic {
        uint32_t w, h;
        int type, depth;
        int interlace;          /* 0 or 1 (Adam7) */
        bool noise;             /* pseudo-random samples: they compress badly (long IDATs) */
        bool trns;              /* a tRNS chunk (palette alpha or a colour key) */
        bool text;              /* a tEXt chunk before the image data and one after it */
        uint32_t idat_max;      /* split the zlib stream into IDATs this long (0: one) */
        bool bad_filter;        /* filter type 5 (there is none) on the last row written */
};

static void put(struct buf *b, const void *data, size_t n)
{
        if (b->len + n > b->cap) {
                b->cap = (b->len + n) * 2;
                b->p = realloc(b->p, b->cap);
                ck_assert_ptr_nonnull(b->p);
        }
        if (n)
                memcpy(b->p + b->len, data, n);
        b->len += n;
}

static void store32(unsigned char *p, uint32_t v)
{
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

static uint32_t load32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(struct buf *b, uint32_t v)
{
        unsigned char be[4];

        store32(be, v);
        put(b, be, 4);
}

static void put_chunk(struct buf *b, const char *type, const void *data, uint32_t n)
{
        size_t start;

        put32(b, n);
        start = b->len;
        put(b, type, 4);
        put(b, data, n);
        put32(b, crc32(crc32(0, NULL, 0), b->p + start, n + 4));
}

static unsigned channels(int type)
{
        switch (type) {
        case GREY_ALPHA:
                return 2;
        case RGB:
                return 3;
        case RGBA:
                return 4;
        default:
                return 1;       /* grey, palette */
        }
}

static unsigned sample(const struct pic *pic, uint32_t x, uint32_t y, unsigned c,
                       uint32_t *seed)
{
        uint32_t v;

        if (pic->noise) {
                *seed = *seed * 1103515245u + 12345u;
                v = *seed >> 8;
        } else {
                v = x * 7 + y * 13 + c * 101;
        }
        return v % (1u << pic->depth);  /* the palette has 2^depth entries */
}

/* Adam7: first column, first row, column step, row step of each pass. */
static const uint32_t adam7[7][4] = {
        { 0, 0, 8, 8 }, { 4, 0, 8, 8 }, { 0, 4, 4, 8 }, { 2, 0, 4, 4 },
        { 0, 2, 2, 4 }, { 1, 0, 2, 2 }, { 0, 1, 1, 2 },
};
static const uint32_t whole[4] = { 0, 0, 1, 1 };

static void raw_pass(const struct pic *pic, const uint32_t g[4], struct buf *raw,
                     uint32_t *seed, size_t *last_row)
{
        unsigned ch = channels(pic->type), depth = (unsigned)pic->depth;
        uint32_t pw = pic->w > g[0] ? (pic->w - g[0] + g[2] - 1) / g[2] : 0;
        uint32_t ph = pic->h > g[1] ? (pic->h - g[1] + g[3] - 1) / g[3] : 0;
        size_t rowbytes = ((size_t)pw * ch * depth + 7) / 8;
        unsigned char *row;

        if (pw == 0 || ph == 0)
                return;         /* an empty pass is left out, filter bytes included */
        row = malloc(rowbytes + 1);
        ck_assert_ptr_nonnull(row);
        for (uint32_t j = 0; j < ph; j++) {
                size_t bit = 0;

                memset(row, 0, rowbytes + 1);   /* row[0]: filter type None */
                for (uint32_t i = 0; i < pw; i++)
                        for (unsigned c = 0; c < ch; c++, bit += depth) {
                                unsigned v = sample(pic, g[0] + i * g[2], g[1] + j * g[3], c,
                                                    seed);
                                unsigned char *p = row + 1 + bit / 8;

                                if (depth == 16) {
                                        p[0] = v >> 8;
                                        p[1] = v;
                                } else {
                                        p[0] |= v << (8 - depth - bit % 8);
                                }
                        }
                *last_row = raw->len;
                put(raw, row, rowbytes + 1);
        }
        free(row);
}

static struct buf encode(const struct pic *pic)
{
        static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
        struct buf png = { 0 }, raw = { 0 };
        unsigned char ihdr[13], plte[768], trns[256];
        unsigned colours = 1u << (pic->depth < 8 ? pic->depth : 8);
        uint32_t seed = 42;
        size_t last_row = 0;
        uLongf zlen;
        unsigned char *z;

        put(&png, sig, sizeof(sig));
        store32(ihdr, pic->w);
        store32(ihdr + 4, pic->h);
        ihdr[8] = pic->depth;
        ihdr[9] = pic->type;
        ihdr[10] = 0;
        ihdr[11] = 0;
        ihdr[12] = pic->interlace;
        put_chunk(&png, "IHDR", ihdr, sizeof(ihdr));
        if (pic->type == PALETTE) {
                for (unsigned i = 0; i < colours; i++) {
                        plte[3 * i] = i * 37;
                        plte[3 * i + 1] = i * 91;
                        plte[3 * i + 2] = 255 - i;
                        trns[i] = i * 5;
                }
                put_chunk(&png, "PLTE", plte, 3 * colours);
                if (pic->trns)
                        put_chunk(&png, "tRNS", trns, colours);
        } else if (pic->trns) {         /* a colour key: one 16-bit value per channel */
                memset(trns, 0, sizeof(trns));
                trns[1] = 1;
                put_chunk(&png, "tRNS", trns, pic->type == RGB ? 6 : 2);
        }
        if (pic->text)
                put_chunk(&png, "tEXt", "Comment\0balena", 14);

        if (pic->interlace)
                for (int pass = 0; pass < 7; pass++)
                        raw_pass(pic, adam7[pass], &raw, &seed, &last_row);
        else
                raw_pass(pic, whole, &raw, &seed, &last_row);
        if (pic->bad_filter)
                raw.p[last_row] = 5;
        zlen = compressBound(raw.len);
        z = malloc(zlen);
        ck_assert_ptr_nonnull(z);
        ck_assert_int_eq(compress2(z, &zlen, raw.p, raw.len, 6), Z_OK);
        for (size_t off = 0; off < zlen;) {
                size_t n = pic->idat_max && zlen - off > pic->idat_max ? pic->idat_max
                                                                       : zlen - off;

                put_chunk(&png, "IDAT", z + off, n);
                off += n;
        }
        free(z);
        free(raw.p);

        if (pic->text)
                put_chunk(&png, "tEXt", "Title\0logo", 10);
        put_chunk(&png, "IEND", NULL, 0);
        return png;
}

/* Offset of the nth chunk of a type (its length field). */
static size_t find_chunk(const struct buf *b, const char *type, int nth)
{
        int seen = 0;

        for (size_t off = 8; off + 12 <= b->len; off += 12 + load32(b->p + off))
                if (memcmp(b->p + off + 4, type, 4) == 0 && seen++ == nth)
                        return off;
        ck_abort_msg("no %s chunk #%d", type, nth);
        return 0;
}

static size_t last_chunk(const struct buf *b, const char *type)
{
        size_t found = 0;

        for (size_t off = 8; off + 12 <= b->len; off += 12 + load32(b->p + off))
                if (memcmp(b->p + off + 4, type, 4) == 0)
                        found = off;
        ck_assert_msg(found, "no %s chunk", type);
        return found;
}

static void fix_crc(struct buf *b, size_t off)
{
        uint32_t len = load32(b->p + off);

        store32(b->p + off + 8 + len, crc32(crc32(0, NULL, 0), b->p + off + 4, len + 4));
}

static void remove_chunk(struct buf *b, size_t off)
{
        size_t n = 12 + load32(b->p + off);

        memmove(b->p + off, b->p + off + n, b->len - off - n);
        b->len -= n;
}

/* Replace the chunk at off (or, with remove 0, put a new one before it). */
static void splice_chunk(struct buf *b, size_t off, size_t remove, const char *type,
                         const void *data, uint32_t n)
{
        struct buf out = { 0 };

        put(&out, b->p, off);
        put_chunk(&out, type, data, n);
        put(&out, b->p + off + remove, b->len - off - remove);
        free(b->p);
        *b = out;
}

/* Split the IDAT at off in two after its first n data bytes, both with good CRCs. */
static void split_idat(struct buf *b, size_t off, uint32_t n)
{
        uint32_t len = load32(b->p + off);
        unsigned char *tail = malloc(len - n);

        ck_assert_ptr_nonnull(tail);
        memcpy(tail, b->p + off + 8 + n, len - n);
        store32(b->p + off, n);
        memmove(b->p + off + 8 + n + 4, b->p + off + 12 + len, b->len - off - 12 - len);
        b->len -= len - n;
        fix_crc(b, off);
        splice_chunk(b, off + 12 + n, 0, "IDAT", tail, len - n);
        free(tail);
}

/* A raw header with no real image: for the size limits, which come before decoding. */
static struct buf header_only(uint32_t w, uint32_t h, bool good_crc)
{
        struct pic pic = { .w = 1, .h = 1, .type = RGBA, .depth = 8 };
        struct buf b = encode(&pic);

        store32(b.p + 16, w);
        store32(b.p + 20, h);
        if (good_crc)
                fix_crc(&b, 8);
        return b;
}

/* ---- helpers ------------------------------------------------------------ */

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void expect_fail(const void *data, size_t len, enum bimg_status status,
                        const char *want, const char *unwanted)
{
        struct bimg_error err = { 0 };
        struct png_facts facts, before;

        memset(&facts, 0x5a, sizeof(facts));
        memcpy(&before, &facts, sizeof(facts));
        ck_assert_int_eq(png_check(data, len, ORIGIN, &facts, &err), -1);
        ck_assert_msg(err.status == status, "status %d, want %d: %s", err.status, status,
                      err.message);
        ck_assert_msg(strncmp(err.message, "'" ORIGIN "' ", strlen(ORIGIN) + 3) == 0,
                      "message does not start with the origin: %s", err.message);
        ck_assert_msg(strstr(err.message, want), "want \"%s\" in: %s", want, err.message);
        ck_assert_msg(!unwanted || !strstr(err.message, unwanted), "\"%s\" in: %s", unwanted,
                      err.message);
        ck_assert_msg(!strpbrk(err.message, "\r\n"), "not one line: %s", err.message);
        ck_assert_msg(memcmp(&facts, &before, sizeof(facts)) == 0, "facts written on failure");
}

/* ---- valid pictures ----------------------------------------------------- */

static const struct {
        const char *name;
        struct pic pic;
} valid[] = {
        { "1x1 RGBA", PIC(1, 1, RGBA, 8) },
        { "840x840 RGBA, the default logo", PIC(840, 840, RGBA, 8, .idat_max = 8192) },
        { "RGB", PIC(100, 50, RGB, 8) },
        { "RGB with a colour key", PIC(10, 10, RGB, 8, .trns = true) },
        { "RGB 16-bit", PIC(33, 21, RGB, 16) },
        { "RGBA 16-bit", PIC(17, 9, RGBA, 16, .noise = true) },
        { "palette 8-bit with tRNS", PIC(64, 64, PALETTE, 8, .trns = true, .noise = true) },
        { "palette 4-bit", PIC(31, 7, PALETTE, 4) },
        { "palette 1-bit", PIC(13, 3, PALETTE, 1) },
        { "grey 1-bit", PIC(9, 9, GREY, 1) },
        { "grey 2-bit", PIC(9, 9, GREY, 2) },
        { "grey 8-bit", PIC(40, 40, GREY, 8) },
        { "grey 16-bit with a key", PIC(40, 3, GREY, 16, .trns = true) },
        { "grey+alpha 8-bit", PIC(20, 30, GREY_ALPHA, 8) },
        { "grey+alpha 16-bit", PIC(20, 30, GREY_ALPHA, 16) },
        { "interlaced RGBA", PIC(33, 17, RGBA, 8, .interlace = 1) },
        { "interlaced 1x1", PIC(1, 1, RGBA, 8, .interlace = 1) },
        { "interlaced palette 2-bit", PIC(9, 5, PALETTE, 2, .interlace = 1) },
        { "interlaced grey 16-bit", PIC(8, 8, GREY, 16, .interlace = 1) },
        { "many small IDATs", PIC(64, 64, RGBA, 8, .noise = true, .idat_max = 100) },
        { "text chunks around the image", PIC(4, 4, RGB, 8, .text = true) },
        { "16384 wide, the limit", PIC(16384, 1, GREY, 8) },
        { "16384 high, the limit", PIC(1, 16384, GREY, 8) },
};

START_TEST(test_valid)
{
        const struct pic *pic = &valid[_i].pic;
        struct buf b = encode(pic);
        struct bimg_error err = { 0 };
        struct png_facts facts;

        memset(&facts, 0x5a, sizeof(facts));
        ck_assert_msg(png_check(b.p, b.len, ORIGIN, &facts, &err) == 0, "%s: %s",
                      valid[_i].name, err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
        ck_assert_str_eq(err.message, "");
        ck_assert_uint_eq(facts.width, pic->w);
        ck_assert_uint_eq(facts.height, pic->h);
        ck_assert_int_eq(facts.bit_depth, pic->depth);
        ck_assert_int_eq(facts.color_type, pic->type);
        free(b.p);
}
END_TEST

/* ---- cut and damaged PNGs ------------------------------------------------ */

static const struct pic plain = PIC(64, 64, RGBA, 8, .noise = true, .idat_max = 4096);
static const struct pic texty = PIC(64, 64, RGBA, 8, .noise = true, .idat_max = 4096,
                                    .text = true);
static const struct pic indexed = PIC(16, 16, PALETTE, 8);
static const struct pic filtered = PIC(64, 64, RGBA, 8, .bad_filter = true);
static const struct pic filtered_interlaced = PIC(64, 64, RGBA, 8, .interlace = 1,
                                                  .bad_filter = true);

static void cut(struct buf *b, size_t n)
{
        ck_assert_uint_lt(n, b->len);
        b->len = n;
}

static void cut_1(struct buf *b)
{
        cut(b, 1);
}

static void cut_7(struct buf *b)
{
        cut(b, 7);
}

static void cut_8(struct buf *b)
{
        cut(b, 8);
}

static void cut_in_ihdr(struct buf *b)
{
        cut(b, 20);
}

static void cut_after_ihdr(struct buf *b)
{
        cut(b, 33);
}

static void cut_idat_header(struct buf *b)
{
        cut(b, find_chunk(b, "IDAT", 0) + 4);
}

static void cut_first_idat(struct buf *b)
{
        cut(b, find_chunk(b, "IDAT", 0) + 100);
}

static void cut_middle_idat(struct buf *b)
{
        cut(b, find_chunk(b, "IDAT", 2) + 2000);
}

static void cut_idat_crc(struct buf *b)
{
        size_t off = last_chunk(b, "IDAT");

        cut(b, off + 8 + load32(b->p + off) + 2);
}

static void cut_before_iend(struct buf *b)
{
        cut(b, b->len - 12);
}

static void cut_in_iend(struct buf *b)
{
        cut(b, b->len - 4);
}

static void cut_last_byte(struct buf *b)
{
        cut(b, b->len - 1);
}

static void flip_idat(struct buf *b)
{
        b->p[find_chunk(b, "IDAT", 1) + 8 + 1000] ^= 0x01;
}

static void flip_idat_crc(struct buf *b)
{
        size_t off = find_chunk(b, "IDAT", 0);

        b->p[off + 8 + load32(b->p + off)] ^= 0x80;
}

static void flip_ihdr(struct buf *b)
{
        b->p[19] ^= 0x01;
}

static void bad_zlib_header(struct buf *b)
{
        size_t off = find_chunk(b, "IDAT", 0);

        b->p[off + 8] ^= 0x01;          /* CMF 0x78: the FCHECK no longer holds */
        fix_crc(b, off);
}

static void bad_deflate(struct buf *b)
{
        size_t off = find_chunk(b, "IDAT", 1);

        for (size_t i = 0; i < 64; i++)
                b->p[off + 8 + 1000 + i] ^= 0xa5;
        fix_crc(b, off);
}

static void bad_adler32(struct buf *b)
{
        size_t off = last_chunk(b, "IDAT");

        b->p[off + 8 + load32(b->p + off) - 1] ^= 0x01;
        fix_crc(b, off);
}

static void taller(struct buf *b)
{
        store32(b->p + 20, load32(b->p + 20) + 1);
        fix_crc(b, 8);
}

static void flip_text_before(struct buf *b)
{
        b->p[find_chunk(b, "tEXt", 0) + 10] ^= 0x01;
}

static void flip_text_after(struct buf *b)
{
        b->p[find_chunk(b, "tEXt", 1) + 10] ^= 0x01;
}

static void flip_iend_crc(struct buf *b)
{
        b->p[b->len - 1] ^= 0x01;
}

static void no_idat(struct buf *b)
{
        while (memmem(b->p, b->len, "IDAT", 4))
                remove_chunk(b, find_chunk(b, "IDAT", 0));
}

static void no_plte(struct buf *b)
{
        remove_chunk(b, find_chunk(b, "PLTE", 0));
}

static void critical_chunk(struct buf *b)
{
        memcpy(b->p + find_chunk(b, "tEXt", 0) + 4, "BLNA", 4);  /* upper case: critical */
        fix_crc(b, find_chunk(b, "BLNA", 0));
}

static void huge_chunk(struct buf *b)
{
        store32(b->p + find_chunk(b, "tEXt", 0), 0x7ffffff0);   /* more than the file */
}

static void chunk_length_over_31_bits(struct buf *b)
{
        store32(b->p + find_chunk(b, "tEXt", 0), 0x80000000);
}

static void bad_depth(struct buf *b)
{
        b->p[24] = 4;                   /* RGBA comes in 8 or 16 bits only */
        fix_crc(b, 8);
}

static void bad_interlace(struct buf *b)
{
        b->p[28] = 2;
        fix_crc(b, 8);
}

static void nothing(struct buf *b)
{
        (void)b;                /* the damage is in the encoded picture */
}

/* The Adler-32 alone in a last IDAT: libpng reads it only after the last row. */
static void bad_adler32_alone(struct buf *b)
{
        size_t off = last_chunk(b, "IDAT");

        split_idat(b, off, load32(b->p + off) - 4);
        off = last_chunk(b, "IDAT");
        b->p[off + 8 + 3] ^= 0x01;
        fix_crc(b, off);
}

static void data_after_zlib_end(struct buf *b)
{
        size_t off = last_chunk(b, "IDAT");
        uint32_t len = load32(b->p + off);
        unsigned char *data = malloc(len + 4);

        ck_assert_ptr_nonnull(data);
        memcpy(data, b->p + off + 8, len);
        memcpy(data + len, "junk", 4);
        splice_chunk(b, off, 12 + len, "IDAT", data, len + 4);
        free(data);
}

static void idat_after_text(struct buf *b)
{
        splice_chunk(b, b->len - 12, 0, "IDAT", "junk", 4);
}

static void huge_text(struct buf *b)
{
        unsigned char *text = calloc(1, (4 << 20) + 1);

        ck_assert_ptr_nonnull(text);
        memcpy(text, "Comment", 7);
        splice_chunk(b, find_chunk(b, "IDAT", 0), 0, "tEXt", text, (4 << 20) + 1);
        free(text);
}

static void crlf_to_lf(struct buf *b)
{
        memmove(b->p + 4, b->p + 5, b->len - 5);        /* what a text-mode copy does */
        b->len--;
}

static void trailing_garbage(struct buf *b)
{
        put(b, "garbage", 7);
}

/* A PNG that ends early: the message says where, with the length of what is left. */
static const struct {
        const char *name;
        const struct pic *base;
        void (*damage)(struct buf *b);
        const char *where;
} cuts[] = {
        { "1 byte", &plain, cut_1, "inside the signature" },
        { "7 bytes", &plain, cut_7, "inside the signature" },
        { "signature only", &plain, cut_8, "right after the signature" },
        { "cut in IHDR", &plain, cut_in_ihdr, "inside its IHDR chunk" },
        { "cut after IHDR", &plain, cut_after_ihdr, "after its IHDR chunk, with no IEND" },
        { "cut in an IDAT header", &texty, cut_idat_header, "after its tEXt chunk, with no "
          "IEND" },
        { "cut in the first IDAT", &plain, cut_first_idat, "inside its IDAT chunk" },
        { "cut in the third IDAT", &plain, cut_middle_idat, "inside its IDAT chunk" },
        { "cut in the last CRC of IDAT", &plain, cut_idat_crc, "inside its IDAT chunk" },
        { "cut before IEND", &plain, cut_before_iend, "after its IDAT chunk, with no IEND" },
        { "cut before IEND, after tEXt", &texty, cut_before_iend, "after its tEXt chunk, "
          "with no IEND" },
        { "cut in IEND", &plain, cut_in_iend, "inside its IEND chunk" },
        { "last byte missing", &plain, cut_last_byte, "inside its IEND chunk" },
        { "chunk longer than the file", &texty, huge_chunk, "inside its tEXt chunk" },
};

START_TEST(test_truncated)
{
        struct buf b = encode(cuts[_i].base);
        char want[160];

        cuts[_i].damage(&b);
        snprintf(want, sizeof(want), "'%s' is a truncated PNG (the file ends after %zu byte%s, "
                 "%s); copy or export it again", ORIGIN, b.len, b.len == 1 ? "" : "s",
                 cuts[_i].where);
        expect_fail(b.p, b.len, BIMG_E_INVALID, want, NULL);
        free(b.p);
}
END_TEST

/* A PNG of the right length with damage inside: libpng's own words follow the colon. */
static const struct {
        const char *name;
        const struct pic *base;
        void (*damage)(struct buf *b);
        const char *want, *unwanted;
} corrupt[] = {
        { "flipped bit in IDAT", &plain, flip_idat, "corrupt PNG: IDAT: CRC error; copy or "
          "export it again", NULL },
        { "flipped bit in an IDAT CRC", &plain, flip_idat_crc, "corrupt PNG: IDAT: CRC error",
          NULL },
        { "flipped bit in IHDR", &plain, flip_ihdr, "corrupt PNG: IHDR: CRC error", NULL },
        { "bad zlib header, CRC fixed", &plain, bad_zlib_header, "corrupt PNG: IDAT: ",
          "CRC" },
        { "bad deflate data, CRC fixed", &plain, bad_deflate, "corrupt PNG: ", "CRC" },
        { "bad Adler-32, CRC fixed", &plain, bad_adler32, "corrupt PNG: IDAT: incorrect data "
          "check", "CRC" },
        { "bad Adler-32 in an IDAT of its own", &plain, bad_adler32_alone, "corrupt PNG: "
          "IDAT: incorrect data check", "CRC" },
        { "data after the zlib stream", &plain, data_after_zlib_end, "corrupt PNG: IDAT: "
          "Extra compressed data", NULL },
        { "IDAT after a later chunk", &texty, idat_after_text, "corrupt PNG: IDAT: Too many "
          "IDATs found;", NULL },
        { "filter type 5 in the last row", &filtered, nothing, "corrupt PNG: bad adaptive "
          "filter value", NULL },
        { "filter type 5, interlaced", &filtered_interlaced, nothing, "corrupt PNG: bad "
          "adaptive filter value", NULL },
        { "too little image data", &plain, taller, "corrupt PNG: Not enough image data",
          NULL },
        { "bad CRC in tEXt before IDAT", &texty, flip_text_before, "corrupt PNG: tEXt: CRC "
          "error", NULL },
        { "bad CRC in tEXt after IDAT", &texty, flip_text_after, "corrupt PNG: tEXt: CRC "
          "error", NULL },
        { "bad CRC in IEND", &plain, flip_iend_crc, "corrupt PNG: IEND: CRC error", NULL },
        { "no IDAT", &plain, no_idat, "corrupt PNG: it has no image data (no IDAT chunk); "
          "copy or export it again", NULL },
        { "palette without PLTE", &indexed, no_plte, "corrupt PNG: ", NULL },
        { "unknown critical chunk", &texty, critical_chunk, "corrupt PNG: BLNA: ", NULL },
        { "chunk length over 31 bits", &texty, chunk_length_over_31_bits, "corrupt PNG: ",
          NULL },
        { "RGBA at 4 bits", &plain, bad_depth, "corrupt PNG: Invalid IHDR data (Invalid "
          "color type/bit depth combination in IHDR); copy or export it again", NULL },
        { "interlace method 2", &plain, bad_interlace, "(Unknown interlace method in IHDR)",
          NULL },
        { "metadata over 4 MiB", &plain, huge_text, "'" ORIGIN "' has a tEXt chunk of 4194305 "
          "bytes, more than the 4 MiB allowed; save it again without the metadata", NULL },
        { "CR/LF signature", &plain, crlf_to_lf, "corrupt PNG: its signature was altered",
          NULL },
};

START_TEST(test_corrupt)
{
        struct buf b = encode(corrupt[_i].base);

        corrupt[_i].damage(&b);
        expect_fail(b.p, b.len, BIMG_E_INVALID, corrupt[_i].want, corrupt[_i].unwanted);
        free(b.p);
}
END_TEST

/* Bytes after IEND are not looked at, as libpng and plymouth do not. */
START_TEST(test_trailing_bytes_ignored)
{
        struct buf b = encode(&plain);
        struct bimg_error err = { 0 };
        struct png_facts facts;

        trailing_garbage(&b);
        ck_assert_msg(png_check(b.p, b.len, ORIGIN, &facts, &err) == 0, "%s", err.message);
        ck_assert_uint_eq(facts.width, 64);
        free(b.p);
}
END_TEST

/* Metadata is skipped, not parsed; only its CRC is checked. A damaged iCCP or zTXt
 * does not change the pixels plymouth shows, and a chunk of exactly 4 MiB is allowed. */
START_TEST(test_metadata_skipped)
{
        struct buf b = encode(&plain);
        unsigned char *text = calloc(1, 4 << 20);
        struct bimg_error err = { 0 };
        struct png_facts facts;

        ck_assert_ptr_nonnull(text);
        memcpy(text, "Comment", 7);
        splice_chunk(&b, find_chunk(&b, "IDAT", 0), 0, "iCCP", "icc\0\0not zlib", 13);
        /* after the image, where a warning would be an error if libpng parsed them */
        splice_chunk(&b, b.len - 12, 0, "zTXt", "Comment\0\0not zlib", 17);
        splice_chunk(&b, b.len - 12, 0, "iCCP", "icc\0\0not zlib", 13);
        splice_chunk(&b, b.len - 12, 0, "tEXt", text, 4 << 20);
        ck_assert_msg(png_check(b.p, b.len, ORIGIN, &facts, &err) == 0, "%s", err.message);
        ck_assert_uint_eq(facts.height, 64);
        free(text);
        free(b.p);
}
END_TEST

/* ---- size limits, checked before anything is decoded -------------------- */

static const struct {
        uint32_t w, h;
        bool good_crc;
        const char *want;
} sizes[] = {
        { 65535, 65535, true, "'" ORIGIN "' is 65535x65535 pixels, more than the "
          "16384x16384 limit; scale it down" },
        { 16385, 1, true, "is 16385x1 pixels, more than the 16384x16384 limit" },
        { 1, 16385, true, "is 1x16385 pixels, more than the 16384x16384 limit" },
        { 16384, 16384, true, "is 16384x16384 pixels, 1024 MiB decoded, more than the "
          "256 MiB limit" },
        { 8193, 8192, true, "is 8193x8192 pixels, 257 MiB decoded, more than the 256 MiB "
          "limit" },
        { 0, 1, true, "is a corrupt PNG: its header gives a size of 0x1 pixels; copy or "
          "export it again" },
        { 840, 0, true, "is a corrupt PNG: its header gives a size of 840x0 pixels" },
        { 0x80000000u, 1, true, "corrupt PNG: its header gives a size of 2147483648x1" },
        { 65535, 65535, false, "is a corrupt PNG: IHDR: CRC error" },   /* not trusted */
};

START_TEST(test_size_limits)
{
        struct buf b = header_only(sizes[_i].w, sizes[_i].h, sizes[_i].good_crc);
        double start = now(), took;

        expect_fail(b.p, b.len, BIMG_E_INVALID, sizes[_i].want, NULL);
        took = now() - start;
        /* decoding even the rows of 65535x65535 would take seconds: it must fail at
         * the header (generous for valgrind and busy machines) */
        ck_assert_msg(took < 0.05, "took %.3f s", took);
        free(b.p);
}
END_TEST

/* ---- other formats ------------------------------------------------------ */

#define BYTES(s) s, sizeof(s) - 1

static const struct {
        const char *data;
        size_t len;
        const char *want;
} foreign[] = {
        { BYTES("\xff\xd8\xff\xe0\0\x10JFIF\0\1\1\0"), "is a JPEG picture, not a PNG" },
        { BYTES("GIF87a\1\0\1\0\0\0\0"), "is a GIF picture, not a PNG" },
        { BYTES("GIF89a\1\0\1\0\x80\0\0"), "is a GIF picture, not a PNG" },
        { BYTES("RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0"), "is a WebP picture, not a PNG" },
        { BYTES("BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\1\0\0\0\1\0\0\0\1\0\x18\0"),
          "is a BMP picture, not a PNG" },
        { BYTES("\0\0\1\0\1\0\x10\x10\0\0\1\0\x20\0"), "is a Windows icon (ICO), not a PNG" },
        { BYTES("II*\0\x08\0\0\0"), "is a TIFF picture, not a PNG" },
        { BYTES("MM\0*\0\0\0\x08"), "is a TIFF picture, not a PNG" },
        { BYTES("\0\0\0\x1c" "ftypavif\0\0\0\0"), "is an AVIF picture, not a PNG" },
        { BYTES("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "is a PDF document, not a PNG" },
        { BYTES("PK\3\4\x14\0\0\0\x08\0"), "is a zip archive, not a PNG; unpack it" },
        { BYTES("\x1f\x8b\x08\0\0\0\0\0"), "is a gzip file, not a PNG" },
        { BYTES("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"840\"/>"),
          "is an SVG picture, not a PNG; render it to PNG" },
        { BYTES("\xef\xbb\xbf \n\t<?xml version=\"1.0\"?>\n<svg/>\n"),
          "is an SVG picture, not a PNG" },
        { BYTES("<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\">\n"
                "<svg version=\"1.1\"/>"), "is an SVG picture" },
        { BYTES("<?xml version=\"1.0\"?><note/>"), "is an XML file, not a PNG" },
        { BYTES("<!DOCTYPE html>\n<html><body>logo</body></html>"),
          "is an HTML page, not a PNG; download the picture itself" },
        { BYTES("BMW is not a bitmap\n"), "is a text file, not a PNG" },
        { BYTES("hello, world\r\n"), "is a text file, not a PNG" },
        { BYTES("caf\xc3\xa9\n"), "is a text file, not a PNG" },
        { BYTES("RIFF\x24\0\0\0WAVEfmt "), "is not a PNG (it does not start with the PNG "
          "signature)" },
        { BYTES("\0\1\2\3\xfe\xff"), "is not a PNG (it does not start with the PNG signature)" },
        { BYTES("text\0with a NUL"), "is not a PNG (it does not start" },
        { BYTES(""), "'" ORIGIN "' is empty; pass a PNG picture" },
};

START_TEST(test_foreign)
{
        expect_fail(foreign[_i].data, foreign[_i].len, BIMG_E_INVALID, foreign[_i].want, NULL);
}
END_TEST

/* ---- API details -------------------------------------------------------- */

START_TEST(test_null_arguments)
{
        struct pic pic = PIC(2, 2, RGBA, 8);
        struct buf b = encode(&pic);
        struct bimg_error err = { 0 };

        ck_assert_int_eq(png_check(b.p, b.len, ORIGIN, NULL, NULL), 0);
        ck_assert_int_eq(png_check(b.p, b.len - 1, ORIGIN, NULL, NULL), -1);
        ck_assert_int_eq(png_check(NULL, 0, ORIGIN, NULL, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_str_eq(err.message, "'" ORIGIN "' is empty; pass a PNG picture");
        free(b.p);
}
END_TEST

START_TEST(test_first_error_wins)
{
        struct bimg_error err = { 0 };

        bimg_fail(&err, BIMG_E_IO, "earlier failure");
        ck_assert_int_eq(png_check(BYTES("GIF89a"), ORIGIN, NULL, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_IO);
        ck_assert_str_eq(err.message, "earlier failure");
}
END_TEST

START_TEST(test_origin_is_quoted)
{
        struct bimg_error err = { 0 };

        ck_assert_int_eq(png_check(BYTES("GIF89a"), "/tmp/my logo.gif", NULL, &err), -1);
        ck_assert_str_eq(err.message, "'/tmp/my logo.gif' is a GIF picture, not a PNG; "
                         "convert it to PNG first; plymouth shows PNG only");
}
END_TEST

static Suite *png_suite(void)
{
        Suite *s = suite_create("png");
        TCase *tc = tcase_create("png");

        tcase_set_timeout(tc, 60);      /* valgrind */
        tcase_add_loop_test(tc, test_valid, 0, ARRAY_SIZE(valid));
        tcase_add_loop_test(tc, test_truncated, 0, ARRAY_SIZE(cuts));
        tcase_add_loop_test(tc, test_corrupt, 0, ARRAY_SIZE(corrupt));
        tcase_add_test(tc, test_trailing_bytes_ignored);
        tcase_add_test(tc, test_metadata_skipped);
        tcase_add_loop_test(tc, test_size_limits, 0, ARRAY_SIZE(sizes));
        tcase_add_loop_test(tc, test_foreign, 0, ARRAY_SIZE(foreign));
        tcase_add_test(tc, test_null_arguments);
        tcase_add_test(tc, test_first_error_wins);
        tcase_add_test(tc, test_origin_is_quoted);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(png_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
