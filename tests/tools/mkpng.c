/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkpng OUT W H [flat|noise] [SEED] [CW CH]: write a W x H 8-bit RGBA PNG for the
 * tests. With CW CH, the header claims CW x CH pixels (up to 2^31-1 each) over
 * the W x H data: a hostile PNG that must be refused before anything is decoded.
 *
 * flat (the default) fills every pixel with one colour derived from SEED, which
 * zlib squeezes to almost nothing; noise fills them with pseudo-random bytes
 * (xorshift64 from SEED), which do not compress, so the file is about 4*W*H
 * bytes. The same arguments always give the same bytes. Written with zlib only,
 * independently of the PNG code under test.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDAT_MAX (1u << 20)     /* bytes of compressed data per IDAT chunk */

static void be32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)(v >> 24);
        p[1] = (unsigned char)(v >> 16);
        p[2] = (unsigned char)(v >> 8);
        p[3] = (unsigned char)v;
}

static int chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len)
{
        unsigned char head[8], tail[4];
        uLong crc;

        be32(head, len);
        memcpy(head + 4, type, 4);
        crc = crc32(0L, (const Bytef *)type, 4);
        if (len)
                crc = crc32(crc, data, len);
        be32(tail, (uint32_t)crc);
        return fwrite(head, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
                       fwrite(tail, 1, 4, f) == 4 ? 0 : -1;
}

static unsigned long parse_num(const char *s, unsigned long max, const char *what)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > max) {
                fprintf(stderr, "mkpng: bad %s '%s'\n", what, s);
                exit(2);
        }
        return v;
}

int main(int argc, char **argv)
{
        static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
        unsigned long w, h, seed = 1, cw, ch;
        unsigned char ihdr[13], *raw, *z;
        uLongf zlen;
        size_t rowlen, rawlen, off;
        uint64_t x;
        int noise = 0;
        FILE *f;

        if (argc < 4 || argc > 8 || argc == 7) {
                fprintf(stderr, "usage: mkpng OUT W H [flat|noise] [SEED] [CW CH]\n");
                return 2;
        }
        w = parse_num(argv[2], 16384, "width");
        h = parse_num(argv[3], 16384, "height");
        if (w == 0 || h == 0) {
                fprintf(stderr, "mkpng: width and height must be at least 1\n");
                return 2;
        }
        if (argc > 4) {
                if (strcmp(argv[4], "noise") == 0)
                        noise = 1;
                else if (strcmp(argv[4], "flat") != 0) {
                        fprintf(stderr, "mkpng: expected flat or noise, not '%s'\n", argv[4]);
                        return 2;
                }
        }
        if (argc > 5)
                seed = parse_num(argv[5], 0xffffffffUL, "seed");
        cw = argc > 6 ? parse_num(argv[6], 0x7fffffffUL, "claimed width") : w;
        ch = argc > 6 ? parse_num(argv[7], 0x7fffffffUL, "claimed height") : h;

        rowlen = 1 + (size_t)w * 4;
        rawlen = rowlen * h;
        raw = malloc(rawlen);
        zlen = compressBound((uLong)rawlen);
        z = malloc(zlen);
        if (!raw || !z) {
                fprintf(stderr, "mkpng: out of memory\n");
                return 1;
        }
        x = 0x9e3779b97f4a7c15ULL ^ seed;
        for (size_t y = 0; y < h; y++) {
                unsigned char *row = raw + y * rowlen;

                row[0] = 0;     /* filter: none */
                for (size_t i = 1; i < rowlen; i++) {
                        if (noise) {
                                x ^= x << 13;
                                x ^= x >> 7;
                                x ^= x << 17;
                                row[i] = (unsigned char)(x >> 24);
                        } else {
                                /* R, G, B from the seed, alpha opaque */
                                row[i] = (i - 1) % 4 == 3 ? 0xff
                                         : (unsigned char)(seed >> (8 * ((i - 1) % 4)));
                        }
                }
        }
        if (compress2(z, &zlen, raw, (uLong)rawlen, noise ? 1 : 9) != Z_OK) {
                fprintf(stderr, "mkpng: zlib failed\n");
                return 1;
        }

        be32(ihdr, (uint32_t)cw);
        be32(ihdr + 4, (uint32_t)ch);
        ihdr[8] = 8;            /* bit depth */
        ihdr[9] = 6;            /* colour type: RGBA */
        ihdr[10] = ihdr[11] = ihdr[12] = 0;

        f = fopen(argv[1], "wb");
        if (!f) {
                fprintf(stderr, "mkpng: cannot write '%s': %s\n", argv[1], strerror(errno));
                return 1;
        }
        if (fwrite(sig, 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) < 0)
                goto fail;
        for (off = 0; off < zlen; off += IDAT_MAX) {
                uint32_t n = zlen - off > IDAT_MAX ? IDAT_MAX : (uint32_t)(zlen - off);

                if (chunk(f, "IDAT", z + off, n) < 0)
                        goto fail;
        }
        if (chunk(f, "IEND", NULL, 0) < 0 || fclose(f) != 0) {
                f = NULL;
                goto fail;
        }
        free(raw);
        free(z);
        return 0;
fail:
        fprintf(stderr, "mkpng: cannot write '%s': %s\n", argv[1], strerror(errno));
        if (f)
                fclose(f);
        remove(argv[1]);
        return 1;
}
