/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one file that talks to libcrypto. It is opened with dlopen on first use
 * (style guide 2.8): commands that never touch os.sshKeys or balenaRootCA do not
 * pay for loading it, and the binary has no DT_NEEDED entry for it.
 *
 * libcrypto's base64 decoder is lenient (EVP_DecodeBlock skips leading and
 * trailing blanks and does not report padding), so the text is checked here
 * first and libcrypto only ever sees well-formed input.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dl.h"
#include "config/crypto.h"

static typeof(EVP_EncodeBlock) *sym_EVP_EncodeBlock;
static typeof(EVP_DecodeBlock) *sym_EVP_DecodeBlock;
static typeof(BIO_new_mem_buf) *sym_BIO_new_mem_buf;
static typeof(BIO_free) *sym_BIO_free;
static typeof(PEM_read_bio_X509) *sym_PEM_read_bio_X509;
static typeof(X509_free) *sym_X509_free;
static typeof(ERR_get_error) *sym_ERR_get_error;
static typeof(ERR_reason_error_string) *sym_ERR_reason_error_string;
static typeof(ERR_clear_error) *sym_ERR_clear_error;
static typeof(EVP_MD_CTX_new) *sym_EVP_MD_CTX_new;
static typeof(EVP_MD_CTX_free) *sym_EVP_MD_CTX_free;
static typeof(EVP_sha256) *sym_EVP_sha256;
static typeof(EVP_DigestInit_ex) *sym_EVP_DigestInit_ex;
static typeof(EVP_DigestUpdate) *sym_EVP_DigestUpdate;
static typeof(EVP_DigestFinal_ex) *sym_EVP_DigestFinal_ex;

static const struct dl_sym crypto_syms[] = {
        DL_SYM(EVP_EncodeBlock),
        DL_SYM(EVP_DecodeBlock),
        DL_SYM(BIO_new_mem_buf),
        DL_SYM(BIO_free),
        DL_SYM(PEM_read_bio_X509),
        DL_SYM(X509_free),
        DL_SYM(ERR_get_error),
        DL_SYM(ERR_reason_error_string),
        DL_SYM(ERR_clear_error),
        DL_SYM(EVP_MD_CTX_new),
        DL_SYM(EVP_MD_CTX_free),
        DL_SYM(EVP_sha256),
        DL_SYM(EVP_DigestInit_ex),
        DL_SYM(EVP_DigestUpdate),
        DL_SYM(EVP_DigestFinal_ex),
};

static struct dl_lib libcrypto = {
        .soname = "libcrypto.so.3",
        .package = "libssl3",
        .purpose = "SSH keys, certificates and checksums",
        .syms = crypto_syms,
        .n_syms = sizeof(crypto_syms) / sizeof(crypto_syms[0]),
        .rank = 0,              /* SSH keys are read before a profile is built */
};

void crypto_preload(void)
{
        dl_preload(&libcrypto);
}

static int load(struct bimg_error *err)
{
        return dl_load(&libcrypto, err);
}

/* The value of a base64 alphabet character, or -1. */
static int b64_value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

static bool is_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int crypto_base64_encode(const void *data, size_t len, char **ret, struct bimg_error *err)
{
        size_t out_len;
        char *out;
        int n;

        if (len > CRYPTO_BASE64_MAX / 4 * 3)
                return bimg_fail(err, BIMG_E_INVALID, "%zu bytes are too many to encode "
                                 "(at most %u)", len, CRYPTO_BASE64_MAX / 4 * 3);
        if (load(err) < 0)
                return -1;
        out_len = (len + 2) / 3 * 4;
        out = malloc(out_len + 1);              /* EVP_EncodeBlock adds the NUL */
        if (!out)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        n = sym_EVP_EncodeBlock((unsigned char *)out, data, (int)len);
        if (n < 0 || (size_t)n != out_len) {
                free(out);
                return bimg_fail(err, BIMG_E_FAILURE, "base64 encoding failed");
        }
        out[out_len] = '\0';
        *ret = out;
        return 0;
}

/* Check text against RFC 4648 section 4 with the strict rules of section 3: no
 * characters outside the alphabet (so no line breaks), complete 4-character
 * groups, '=' only as the last one or two characters, and zero pad bits, so that
 * every byte string has exactly one accepted encoding. Returns the pad count. */
static int b64_validate(const char *text, size_t len, struct bimg_error *err)
{
        size_t pad = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)text[i];

                if (c == '=') {
                        pad++;
                        continue;
                }
                if (pad > 0)
                        return bimg_fail(err, BIMG_E_INVALID, "invalid base64: '=' padding "
                                         "before the end (offset %zu)", i - pad);
                if (is_space(c))
                        return bimg_fail(err, BIMG_E_INVALID, "invalid base64: whitespace at "
                                         "offset %zu; give it on one line without spaces", i);
                if (b64_value(c) < 0) {
                        if (c >= 0x21 && c < 0x7f)
                                return bimg_fail(err, BIMG_E_INVALID, "invalid base64: "
                                                 "character '%c' at offset %zu", c, i);
                        return bimg_fail(err, BIMG_E_INVALID, "invalid base64: byte 0x%02x "
                                         "at offset %zu", c, i);
                }
        }
        if (len % 4 != 0)
                return bimg_fail(err, BIMG_E_INVALID, "invalid base64: length %zu is not a "
                                 "multiple of 4 (truncated, or padding missing)", len);
        if (pad > 2)
                return bimg_fail(err, BIMG_E_INVALID, "invalid base64: %zu '=' at the end "
                                 "(at most 2)", pad);
        if (pad > 0) {
                /* the last data character carries 4 (pad 1: 2) or 2 (pad 2: 4) spare bits */
                int last = b64_value((unsigned char)text[len - pad - 1]);
                int spare = pad == 1 ? 0x3 : 0xf;

                if (last & spare)
                        return bimg_fail(err, BIMG_E_INVALID, "invalid base64: the bits "
                                         "before the '=' padding are not zero (not a "
                                         "canonical encoding; damaged?)");
        }
        return (int)pad;
}

int crypto_base64_decode(const char *text, size_t len, unsigned char **ret, size_t *ret_len,
                         struct bimg_error *err)
{
        unsigned char *out;
        int pad, n;

        if (len > CRYPTO_BASE64_MAX)
                return bimg_fail(err, BIMG_E_INVALID, "base64 text of %zu bytes is too long "
                                 "(at most %u)", len, CRYPTO_BASE64_MAX);
        pad = b64_validate(text, len, err);
        if (pad < 0)
                return -1;
        if (load(err) < 0)
                return -1;
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        /* counts the bytes that '=' stands for as data; the text was checked above */
        n = len == 0 ? 0 : sym_EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
        if (n < 0 || (size_t)n != len / 4 * 3) {
                free(out);
                return bimg_fail(err, BIMG_E_INVALID, "invalid base64");
        }
        n -= pad;
        out[n] = '\0';
        *ret = out;
        *ret_len = (size_t)n;
        return 0;
}

/* ---- PEM certificates ---------------------------------------------------- */

struct line {
        const char *start;
        size_t len;             /* without the '\n' and any '\r' or blanks at the end */
        size_t next;            /* offset of the following line */
};

static void get_line(const char *text, size_t len, size_t off, struct line *ret)
{
        const char *nl = memchr(text + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - text) : len;

        ret->start = text + off;
        ret->next = nl ? end + 1 : len;
        while (end > off && (text[end - 1] == '\r' || text[end - 1] == ' ' ||
                             text[end - 1] == '\t'))
                end--;
        ret->len = end - off;
}

static bool is_blank_line(const struct line *l)
{
        for (size_t i = 0; i < l->len; i++)
                if (l->start[i] != ' ' && l->start[i] != '\t')
                        return false;
        return true;
}

/* "-----BEGIN LABEL-----" (or END): the label's start and length, or false. */
static bool pem_boundary(const struct line *l, const char *word, const char **ret_label,
                         size_t *ret_label_len)
{
        size_t wlen = strlen(word);

        if (l->len < 10 + wlen + 1 || memcmp(l->start, "-----", 5) != 0 ||
            memcmp(l->start + 5, word, wlen) != 0 || l->start[5 + wlen] != ' ' ||
            memcmp(l->start + l->len - 5, "-----", 5) != 0)
                return false;
        *ret_label = l->start + 5 + wlen + 1;
        *ret_label_len = l->len - 10 - wlen - 1;
        return true;
}

static bool label_is(const char *label, size_t len, const char *want)
{
        return strlen(want) == len && memcmp(label, want, len) == 0;
}

static bool label_has(const char *label, size_t len, const char *part)
{
        size_t plen = strlen(part);

        for (size_t i = 0; i + plen <= len; i++)
                if (memcmp(label + i, part, plen) == 0)
                        return true;
        return false;
}

/* A short, printable excerpt of a user line for an error message. */
static void excerpt(const struct line *l, char *buf, size_t size)
{
        size_t n = 0;

        for (size_t i = 0; i < l->len && n + 1 < size && n < 40; i++) {
                unsigned char c = (unsigned char)l->start[i];

                buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        buf[n] = '\0';
}

/* Parse one BEGIN..END block (a whole certificate) with libcrypto. */
static int parse_certificate(const char *block, size_t len, size_t count, size_t lineno,
                             struct bimg_error *err)
{
        unsigned long e;
        const char *reason;
        X509 *x509;
        BIO *bio;

        bio = sym_BIO_new_mem_buf(block, (int)len);
        if (!bio)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        x509 = sym_PEM_read_bio_X509(bio, NULL, NULL, NULL);
        sym_BIO_free(bio);
        if (x509) {
                sym_X509_free(x509);
                return 0;
        }
        e = sym_ERR_get_error();        /* the oldest error is the most specific one */
        reason = e ? sym_ERR_reason_error_string(e) : NULL;
        sym_ERR_clear_error();
        return bimg_fail(err, BIMG_E_INVALID, "certificate %zu (line %zu) is damaged "
                         "(openssl: %s)", count, lineno,
                         reason ? reason : "not a valid X.509 certificate");
}

int crypto_check_certificates(const char *pem, size_t len, size_t *ret_count,
                              struct bimg_error *err)
{
        size_t off = 0, lineno = 0, count = 0;
        int r = 0;

        if (len > CRYPTO_PEM_MAX)
                return bimg_fail(err, BIMG_E_INVALID, "certificates of %zu bytes are too "
                                 "large (at most %u)", len, CRYPTO_PEM_MAX);
        if (memchr(pem, '\0', len))
                return bimg_fail(err, BIMG_E_INVALID, "certificate text contains a NUL byte; "
                                 "give PEM text, not DER");
        if (load(err) < 0)
                return -1;
        while (off < len && r == 0) {
                const char *label, *end_label;
                size_t label_len, end_len, begin_line, begin_off;
                struct line l;
                char text[48];

                get_line(pem, len, off, &l);
                lineno++;
                off = l.next;
                if (is_blank_line(&l))
                        continue;
                if (!pem_boundary(&l, "BEGIN", &label, &label_len)) {
                        excerpt(&l, text, sizeof(text));
                        r = bimg_fail(err, BIMG_E_INVALID, "line %zu: text outside a "
                                      "certificate ('%s'); keep only the -----BEGIN "
                                      "CERTIFICATE----- blocks", lineno, text);
                        break;
                }
                if (label_has(label, label_len, "PRIVATE KEY")) {
                        r = bimg_fail(err, BIMG_E_INVALID, "line %zu: this is a private key, "
                                      "not a certificate; give the CA certificate only and "
                                      "keep the key secret", lineno);
                        break;
                }
                if (!label_is(label, label_len, "CERTIFICATE")) {
                        r = bimg_fail(err, BIMG_E_INVALID, "line %zu: a PEM '%.*s' block is "
                                      "not a certificate", lineno,
                                      (int)(label_len > 40 ? 40 : label_len), label);
                        break;
                }
                begin_line = lineno;
                begin_off = (size_t)(l.start - pem);
                for (;;) {
                        if (off >= len) {
                                r = bimg_fail(err, BIMG_E_INVALID, "certificate %zu (line "
                                              "%zu) has no -----END CERTIFICATE----- line "
                                              "(truncated?)", count + 1, begin_line);
                                break;
                        }
                        get_line(pem, len, off, &l);
                        lineno++;
                        off = l.next;
                        if (pem_boundary(&l, "END", &end_label, &end_len))
                                break;
                        if (pem_boundary(&l, "BEGIN", &end_label, &end_len)) {
                                r = bimg_fail(err, BIMG_E_INVALID, "certificate %zu (line "
                                              "%zu) has no -----END CERTIFICATE----- line "
                                              "before line %zu", count + 1, begin_line,
                                              lineno);
                                break;
                        }
                }
                if (r < 0)
                        break;
                if (!label_is(end_label, end_len, "CERTIFICATE")) {
                        r = bimg_fail(err, BIMG_E_INVALID, "line %zu: '-----END %.*s-----' "
                                      "does not close the certificate of line %zu", lineno,
                                      (int)(end_len > 40 ? 40 : end_len), end_label,
                                      begin_line);
                        break;
                }
                count++;
                r = parse_certificate(pem + begin_off, off - begin_off, count, begin_line,
                                      err);
        }
        sym_ERR_clear_error();          /* leave no error behind for the next caller */
        if (r < 0)
                return -1;
        if (count == 0)
                return bimg_fail(err, BIMG_E_INVALID, "no certificate found; expected "
                                 "-----BEGIN CERTIFICATE----- blocks");
        *ret_count = count;
        return 0;
}

struct crypto_sha256 {
        EVP_MD_CTX *ctx;
};

int crypto_sha256_begin(struct crypto_sha256 **ret, struct bimg_error *err)
{
        struct crypto_sha256 *h;

        if (load(err) < 0)
                return -1;
        h = calloc(1, sizeof(*h));
        if (!h || !(h->ctx = sym_EVP_MD_CTX_new()) ||
            sym_EVP_DigestInit_ex(h->ctx, sym_EVP_sha256(), NULL) != 1) {
                crypto_sha256_free(h);
                return bimg_fail(err, BIMG_E_FAILURE, "cannot start a SHA-256 digest");
        }
        *ret = h;
        return 0;
}

int crypto_sha256_update(struct crypto_sha256 *h, const void *data, size_t len,
                         struct bimg_error *err)
{
        if (sym_EVP_DigestUpdate(h->ctx, data, len) != 1)
                return bimg_fail(err, BIMG_E_FAILURE, "SHA-256 digest failed");
        return 0;
}

int crypto_sha256_hex(struct crypto_sha256 *h, char hex[65], struct bimg_error *err)
{
        unsigned char md[32];
        unsigned int len = 0;

        if (sym_EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != sizeof(md))
                return bimg_fail(err, BIMG_E_FAILURE, "SHA-256 digest failed");
        for (size_t i = 0; i < sizeof(md); i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        /* ready for the next digest */
        if (sym_EVP_DigestInit_ex(h->ctx, sym_EVP_sha256(), NULL) != 1)
                return bimg_fail(err, BIMG_E_FAILURE, "cannot start a SHA-256 digest");
        return 0;
}

void crypto_sha256_free(struct crypto_sha256 *h)
{
        if (!h)
                return;
        if (h->ctx)
                sym_EVP_MD_CTX_free(h->ctx);
        free(h);
}
