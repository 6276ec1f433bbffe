/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenSSH public keys for os.sshKeys (balenaos-spec.md 3.3). The OS copies each
 * element into authorized_keys unchecked and splits it on newlines, so a bad key
 * here is a device nobody can log in to; everything is checked before writing.
 *
 * A key line is "TYPE BASE64 [COMMENT]". BASE64 is the key blob in the SSH wire
 * format (RFC 4251 5: uint32 big-endian length before every string and mpint):
 *   ssh-ed25519                          string type, string pk (32 bytes)
 *   ssh-rsa                              string type, mpint e, mpint n
 *   ecdsa-sha2-nistpN                    string type, string curve, string Q
 *   sk-ssh-ed25519@openssh.com           as ssh-ed25519, then string application
 *   sk-ecdsa-sha2-nistp256@openssh.com   as ecdsa (nistp256), then string application
 * Q is an uncompressed point: 0x04, X, Y (RFC 5656 3.1), 65/97/133 bytes for
 * nistp256/384/521.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "config/crypto.h"
#include "config/sshkey.h"

#define LINE_MAX_BYTES (16 * 1024)
#define FILE_MAX_BYTES (1024 * 1024)
#define MAX_KEYS SSHKEY_MAX_KEYS
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384      /* OpenSSH's limit (SSHBUF_MAX_BIGNUM) */

enum key_kind { KIND_ED25519, KIND_RSA, KIND_ECDSA };

static const struct key_type {
        const char *name;
        enum key_kind kind;
        const char *curve;      /* ecdsa */
        size_t point_len;       /* ecdsa: uncompressed point */
        bool sk;                /* FIDO key: an application string follows */
} key_types[] = {
        { "ssh-ed25519", KIND_ED25519, NULL, 0, false },
        { "ssh-rsa", KIND_RSA, NULL, 0, false },
        { "ecdsa-sha2-nistp256", KIND_ECDSA, "nistp256", 65, false },
        { "ecdsa-sha2-nistp384", KIND_ECDSA, "nistp384", 97, false },
        { "ecdsa-sha2-nistp521", KIND_ECDSA, "nistp521", 133, false },
        { "sk-ssh-ed25519@openssh.com", KIND_ED25519, NULL, 0, true },
        { "sk-ecdsa-sha2-nistp256@openssh.com", KIND_ECDSA, "nistp256", 65, true },
};

static const struct key_type *find_type(const char *name, size_t len)
{
        for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
                if (strlen(key_types[i].name) == len && memcmp(key_types[i].name, name, len) == 0)
                        return &key_types[i];
        return NULL;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* What a line that is not a public key is, when we can tell: a private key (in
 * any of the common formats), a key in another public format. NULL otherwise. */
static const char *describe_non_key(const char *s)
{
        if (has_prefix(s, "-----BEGIN OPENSSH PRIVATE KEY-----"))
                return "this is an OpenSSH private key, not a public key; give the .pub file "
                       "next to it (never copy a private key onto a device)";
        if (has_prefix(s, "-----BEGIN ") && strstr(s, "PRIVATE KEY-----"))
                return "this is a PEM private key, not a public key; give the public key "
                       "(ssh-keygen -y -f FILE prints it)";
        if (has_prefix(s, "PuTTY-User-Key-File-"))
                return "this is a PuTTY private key, not a public key; in PuTTYgen copy the "
                       "'Public key for pasting into OpenSSH authorized_keys file'";
        if (has_prefix(s, "---- BEGIN SSH2 PUBLIC KEY ----"))
                return "this is an SSH2 (RFC 4716) public key; convert it with "
                       "ssh-keygen -i -f FILE";
        if (has_prefix(s, "-----BEGIN PUBLIC KEY-----") ||
            has_prefix(s, "-----BEGIN RSA PUBLIC KEY-----"))
                return "this is a PEM public key; convert it with ssh-keygen -i -m PKCS8 "
                       "-f FILE";
        if (has_prefix(s, "-----BEGIN "))
                return "this is a PEM block, not an OpenSSH public key";
        return NULL;
}

/* ---- SSH wire format ------------------------------------------------------ */

struct reader {
        const unsigned char *p;
        size_t left;
};

/* A uint32-length-prefixed string; false when the blob ends first. */
static bool read_string(struct reader *r, const unsigned char **ret, size_t *ret_len)
{
        uint32_t n;

        if (r->left < 4)
                return false;
        n = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 |
            r->p[3];
        if (n > r->left - 4)
                return false;
        *ret = r->p + 4;
        *ret_len = n;
        r->p += 4 + (size_t)n;
        r->left -= 4 + (size_t)n;
        return true;
}

static bool bytes_are(const unsigned char *b, size_t len, const char *s)
{
        return strlen(s) == len && memcmp(b, s, len) == 0;
}

/* Bits in a positive mpint (leading zero bytes allowed), or -1 if negative. */
static long mpint_bits(const unsigned char *b, size_t len)
{
        unsigned top;
        long bits;

        if (len > 0 && (b[0] & 0x80))
                return -1;
        while (len > 0 && b[0] == 0)
                b++, len--;
        if (len == 0)
                return 0;
        bits = (long)(len - 1) * 8;
        for (top = b[0]; top; top >>= 1)
                bits++;
        return bits;
}

/* Check the decoded blob against the type named on the line. */
static int check_blob(const struct key_type *t, const unsigned char *blob, size_t len,
                      const char *origin, struct bimg_error *err)
{
        struct reader r = { blob, len };
        const unsigned char *s;
        size_t n;

        if (!read_string(&r, &s, &n))
                return bimg_fail(err, BIMG_E_INVALID, "%s: key data is too short to be a "
                                 "key (truncated?)", origin);
        if (!bytes_are(s, n, t->name)) {
                const struct key_type *inner = find_type((const char *)s, n);

                if (inner)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: the line says '%s' but the "
                                         "key data is a '%s' key", origin, t->name,
                                         inner->name);
                return bimg_fail(err, BIMG_E_INVALID, "%s: the line says '%s' but the key "
                                 "data does not hold a '%s' key", origin, t->name, t->name);
        }
        switch (t->kind) {
        case KIND_ED25519:
                if (!read_string(&r, &s, &n) || n != 32)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: %s key data is damaged: "
                                         "the public key is not 32 bytes", origin, t->name);
                break;
        case KIND_RSA: {
                long e_bits, n_bits;

                if (!read_string(&r, &s, &n))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: ssh-rsa key data is "
                                         "damaged: no exponent", origin);
                e_bits = mpint_bits(s, n);
                if (e_bits < 2)         /* negative, 0 or 1 */
                        return bimg_fail(err, BIMG_E_INVALID, "%s: ssh-rsa key data is "
                                         "damaged: bad exponent", origin);
                if (!read_string(&r, &s, &n))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: ssh-rsa key data is "
                                         "damaged: no modulus", origin);
                n_bits = mpint_bits(s, n);
                if (n_bits < 0)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: ssh-rsa key data is "
                                         "damaged: negative modulus", origin);
                if (n_bits < RSA_MIN_BITS)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: the ssh-rsa key has %ld "
                                         "bits; at least %d are required (make a new key: "
                                         "ssh-keygen -t ed25519)", origin, n_bits,
                                         RSA_MIN_BITS);
                if (n_bits > RSA_MAX_BITS)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: the ssh-rsa key has %ld "
                                         "bits; OpenSSH accepts at most %d", origin, n_bits,
                                         RSA_MAX_BITS);
                break;
        }
        case KIND_ECDSA:
                if (!read_string(&r, &s, &n))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: %s key data is damaged: "
                                         "no curve name", origin, t->name);
                if (!bytes_are(s, n, t->curve))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: %s key data names another "
                                         "curve than %s", origin, t->name, t->curve);
                if (!read_string(&r, &s, &n) || n != t->point_len || s[0] != 0x04)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: %s key data is damaged: "
                                         "the public point is not %zu bytes, uncompressed",
                                         origin, t->name, t->point_len);
                break;
        }
        if (t->sk) {
                if (!read_string(&r, &s, &n) || memchr(s, '\0', n))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: %s key data is damaged: "
                                         "no application string", origin, t->name);
        }
        if (r.left > 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: %s key data has %zu unexpected "
                                 "bytes after the key (damaged?)", origin, t->name, r.left);
        return 0;
}

/* ---- one line -------------------------------------------------------------- */

int sshkey_check_line(const char *line, const char *origin, char **ret_line,
                      struct bimg_error *err)
{
        const unsigned char *u = (const unsigned char *)line;
        const char *type, *b64, *comment, *what;
        size_t len, type_len, b64_len, comment_len;
        const struct key_type *t;
        unsigned char *blob = NULL;
        size_t blob_len;
        char *out;

        if (!origin)
                origin = "SSH key";
        len = strnlen(line, LINE_MAX_BYTES + 1);
        if (len > LINE_MAX_BYTES)
                return bimg_fail(err, BIMG_E_INVALID, "%s: the line is longer than %d bytes; "
                                 "it is not a public key", origin, LINE_MAX_BYTES);
        /* surrounding blanks go, a trailing newline too; anything inside stays and is
         * checked below, so no newline or control character reaches the output */
        while (len > 0 && (is_blank(line[len - 1]) || line[len - 1] == '\n' ||
                           line[len - 1] == '\r'))
                len--;
        while (len > 0 && is_blank(*line))
                line++, u++, len--;
        if (len == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: empty key", origin);
        for (size_t i = 0; i < len;) {
                size_t n;

                if (u[i] == '\n' || u[i] == '\r')
                        return bimg_fail(err, BIMG_E_INVALID, "%s: a key is one line; this "
                                         "one has a line break at offset %zu (give one key "
                                         "per entry)", origin, i);
                if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: control character 0x%02x "
                                         "at offset %zu", origin, u[i], i);
                n = utf8_char_len(u + i, len - i);
                if (n == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: invalid UTF-8 at offset "
                                         "%zu", origin, i);
                i += n;
        }
        what = describe_non_key(line);
        if (what)
                return bimg_fail(err, BIMG_E_INVALID, "%s: %s", origin, what);

        type = line;
        for (type_len = 0; type_len < len && !is_blank(type[type_len]); type_len++)
                ;
        b64 = type + type_len;
        while (b64 < line + len && is_blank(*b64))
                b64++;
        for (b64_len = 0; b64 + b64_len < line + len && !is_blank(b64[b64_len]); b64_len++)
                ;
        comment = b64 + b64_len;
        while (comment < line + len && is_blank(*comment))
                comment++;
        comment_len = (size_t)(line + len - comment);

        t = find_type(type, type_len);
        if (!t) {
                const char *cert = strstr(type, "-cert-v01@openssh.com");

                if (type_len == 7 && memcmp(type, "ssh-dss", 7) == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: ssh-dss (DSA) keys are "
                                         "obsolete and OpenSSH disabled them; use ed25519: "
                                         "ssh-keygen -t ed25519", origin);
                if (cert && cert < type + type_len)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: '%.*s' is an SSH "
                                         "certificate; give the plain public key", origin,
                                         (int)(type_len > 60 ? 60 : type_len), type);
                /* authorized_keys options ("no-pty,command=...") come before the type */
                for (const char *p = b64; p < line + len; p++) {
                        size_t n = 0;

                        if (p != b64 && !is_blank(p[-1]))
                                continue;
                        while (p + n < line + len && !is_blank(p[n]))
                                n++;
                        if (find_type(p, n)) {
                                size_t opt_len = (size_t)(p - line);

                                while (opt_len > 0 && is_blank(line[opt_len - 1]))
                                        opt_len--;
                                return bimg_fail(err, BIMG_E_INVALID, "%s: options before "
                                                 "the key type ('%.*s') are not supported; "
                                                 "start the line with the key type", origin,
                                                 (int)(opt_len > 60 ? 60 : opt_len), line);
                        }
                }
                return bimg_fail(err, BIMG_E_INVALID, "%s: unknown key type '%.*s'; expected "
                                 "ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or a "
                                 "FIDO sk- key", origin, (int)(type_len > 60 ? 60 : type_len),
                                 type);
        }
        if (b64_len == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is not followed by the key "
                                 "data", origin, t->name);
        if (crypto_base64_decode(b64, b64_len, &blob, &blob_len, err) < 0) {
                if (err && err->status != BIMG_E_INVALID)       /* libcrypto missing */
                        bimg_error_prefix(err, "%s", origin);
                else
                        bimg_error_prefix(err, "%s: %s key data", origin, t->name);
                return -1;
        }
        if (check_blob(t, blob, blob_len, origin, err) < 0) {
                free(blob);
                return -1;
        }
        free(blob);

        out = malloc(type_len + 1 + b64_len + 1 + comment_len + 1);
        if (!out)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        memcpy(out, type, type_len);
        out[type_len] = ' ';
        memcpy(out + type_len + 1, b64, b64_len);
        len = type_len + 1 + b64_len;
        if (comment_len > 0) {
                out[len++] = ' ';
                memcpy(out + len, comment, comment_len);
                len += comment_len;
        }
        out[len] = '\0';
        *ret_line = out;
        return 0;
}

/* ---- sameness and files ------------------------------------------------- */

/* The "TYPE BASE64" part of a line: its start and length (blank runs inside are
 * not normalised: compare the two fields separately). */
static bool split_key(const char *s, const char **ret_type, size_t *ret_type_len,
                      const char **ret_b64, size_t *ret_b64_len)
{
        size_t n = 0;

        while (is_blank(*s))
                s++;
        while (s[n] && !is_blank(s[n]))
                n++;
        *ret_type = s;
        *ret_type_len = n;
        s += n;
        while (is_blank(*s))
                s++;
        for (n = 0; s[n] && !is_blank(s[n]) && s[n] != '\n' && s[n] != '\r'; n++)
                ;
        *ret_b64 = s;
        *ret_b64_len = n;
        return *ret_type_len > 0 && n > 0;
}

bool sshkey_same(const char *a, const char *b)
{
        const char *ta, *ba, *tb, *bb;
        size_t tal, bal, tbl, bbl;

        if (!a || !b || !split_key(a, &ta, &tal, &ba, &bal) || !split_key(b, &tb, &tbl, &bb, &bbl))
                return false;
        return tal == tbl && bal == bbl && memcmp(ta, tb, tal) == 0 && memcmp(ba, bb, bal) == 0;
}

/* FNV-1a over TYPE and BASE64, for the duplicate check. */
static uint32_t key_hash(const char *key)
{
        const char *t, *b;
        size_t tl, bl;
        uint32_t h = 2166136261u;

        split_key(key, &t, &tl, &b, &bl);
        for (size_t i = 0; i < tl; i++)
                h = (h ^ (unsigned char)t[i]) * 16777619u;
        h = (h ^ ' ') * 16777619u;
        for (size_t i = 0; i < bl; i++)
                h = (h ^ (unsigned char)b[i]) * 16777619u;
        return h;
}

int sshkey_set_init(struct sshkey_set *set, size_t max)
{
        size_t n_slots = 16;

        while (n_slots < 2 * max)       /* at most half full: short probes */
                n_slots *= 2;
        *set = (struct sshkey_set){ .max = max, .n_slots = n_slots };
        set->keys = calloc(max ? max : 1, sizeof(*set->keys));
        set->slots = calloc(n_slots, sizeof(*set->slots));
        if (!set->keys || !set->slots) {
                sshkey_set_free(set);
                return -1;
        }
        return 0;
}

int sshkey_set_add(struct sshkey_set *set, const char *key)
{
        size_t slot;

        for (slot = key_hash(key) & (set->n_slots - 1); set->slots[slot];
             slot = (slot + 1) & (set->n_slots - 1))
                if (sshkey_same(set->keys[set->slots[slot] - 1], key))
                        return 0;
        if (set->n >= set->max)
                return -1;
        set->keys[set->n++] = key;
        set->slots[slot] = set->n;
        return 1;
}

void sshkey_set_free(struct sshkey_set *set)
{
        free(set->keys);
        free(set->slots);
        set->keys = NULL;
        set->slots = NULL;
}

void sshkey_free_list(char **keys, size_t n)
{
        if (!keys)
                return;
        for (size_t i = 0; i < n; i++)
                free(keys[i]);
        free(keys);
}

int sshkey_parse_file(const char *text, size_t len, const char *origin, char ***ret_keys,
                      size_t *ret_n, struct bimg_error *err)
{
        char where[512], *buf = NULL, *key = NULL;
        char **keys = NULL;
        size_t *slots = NULL;           /* hash set of indices + 1 into keys; 0 is empty */
        size_t n_keys = 0, n_seen = 0, n_slots, off = 0, lineno = 0;
        int r = -1;

        if (!origin)
                origin = "SSH keys";
        if (len > FILE_MAX_BYTES)
                return bimg_fail(err, BIMG_E_INVALID, "%s: %zu bytes is too large for a "
                                 "public key file (at most %d)", origin, len, FILE_MAX_BYTES);
        /* at most one key per line, and never more than MAX_KEYS are kept */
        for (size_t i = 0; i < len; i++)
                n_seen += text[i] == '\n';
        n_seen = n_seen + 1 > MAX_KEYS ? MAX_KEYS : n_seen + 1;
        for (n_slots = 16; n_slots < 2 * n_seen; n_slots *= 2)
                ;
        n_seen = 0;
        keys = calloc(n_slots / 2, sizeof(*keys));
        slots = calloc(n_slots, sizeof(*slots));
        buf = malloc(LINE_MAX_BYTES + 1);
        if (!keys || !slots || !buf) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        while (off < len) {
                const char *nl = memchr(text + off, '\n', len - off);
                size_t end = nl ? (size_t)(nl - text) : len, line_len, start, slot;
                bool dup = false;

                lineno++;
                start = off;
                off = nl ? end + 1 : len;
                if (end > start && text[end - 1] == '\r')       /* CRLF */
                        end--;
                line_len = end - start;
                snprintf(where, sizeof(where), "%s:%zu", origin, lineno);
                if (memchr(text + start, '\0', line_len)) {
                        bimg_fail(err, BIMG_E_INVALID, "%s: NUL byte; this is not a text "
                                  "file of public keys", where);
                        goto out;
                }
                if (line_len > LINE_MAX_BYTES) {
                        bimg_fail(err, BIMG_E_INVALID, "%s: the line is longer than %d "
                                  "bytes; it is not a public key", where, LINE_MAX_BYTES);
                        goto out;
                }
                memcpy(buf, text + start, line_len);
                buf[line_len] = '\0';
                {
                        const char *p = buf;

                        while (is_blank(*p))
                                p++;
                        if (*p == '\0' || *p == '#')
                                continue;
                }
                if (++n_seen > MAX_KEYS) {
                        bimg_fail(err, BIMG_E_INVALID, "%s: more than %d keys", where,
                                  MAX_KEYS);
                        goto out;
                }
                if (sshkey_check_line(buf, where, &key, err) < 0)
                        goto out;
                for (slot = key_hash(key) & (n_slots - 1); slots[slot];
                     slot = (slot + 1) & (n_slots - 1))
                        if (sshkey_same(keys[slots[slot] - 1], key)) {
                                dup = true;
                                break;
                        }
                if (dup) {
                        free(key);
                } else {
                        keys[n_keys++] = key;
                        slots[slot] = n_keys;
                }
                key = NULL;
        }
        if (n_keys == 0) {
                bimg_fail(err, BIMG_E_INVALID, "%s: no public key found (only blank lines "
                          "and comments)", origin);
                goto out;
        }
        *ret_keys = keys;
        *ret_n = n_keys;
        keys = NULL;
        r = 0;
out:
        sshkey_free_list(keys, n_keys);
        free(slots);
        free(buf);
        return r;
}
