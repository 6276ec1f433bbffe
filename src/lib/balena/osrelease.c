/* SPDX-License-Identifier: Apache-2.0 */
/*
 * os-release(5) files (balenaos-spec.md §6.2), read from the boot partition or a
 * root filesystem of an image we did not build, so nothing in them is trusted.
 *
 * What is accepted, line by line ('\n' ends a line; surrounding spaces, tabs and
 * a CR are ignored, so CRLF files work):
 *   - blank lines and lines starting with '#' are skipped;
 *   - KEY=VALUE with KEY = [A-Za-z_][A-Za-z0-9_]*; spaces or tabs around '=' are
 *     tolerated (systemd's parser does the same; the shell would not);
 *   - VALUE "..." : \" \\ \$ \` stand for the character; any other backslash is kept,
 *                   as in the shell;
 *   - VALUE '...' : taken literally, no escapes;
 *   - after a closing quote only blanks and a " #" comment may follow;
 *   - VALUE unquoted: the rest of the line, cut at a " #" comment, with "\x" read
 *     as "x" (shell rules); inner spaces are kept, as systemd and Python do;
 *   - anything else (no '=', a bad key, an unterminated quote, text after the
 *     closing quote, a value continued on the next line) skips that line only.
 * A later KEY replaces an earlier one. The whole text is refused (BIMG_E_INVALID)
 * when it is over 64 KiB, holds a NUL byte, or more than a tenth of its bytes are
 * control characters or broken UTF-8: then it is not an os-release file.
 */
#include <stdlib.h>
#include <string.h>

#include "balena-img.h"

#define OSRELEASE_MAX_SIZE (64 * 1024)

struct entry {
        char *key;
        char *value;
};

struct bimg_osrelease {
        struct entry *entries;
        size_t n_entries;
        size_t allocated;
};

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_key_start(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_key_char(char c)
{
        return is_key_start(c) || (c >= '0' && c <= '9');
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is broken.
 * Structural check only: overlong forms and surrogates are not looked for. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
        size_t len;

        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return len;
}

/* Refuse what cannot be an os-release file before looking at its lines. */
static int check_text(const char *text, size_t len, struct bimg_error *err)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t bad = 0;

        if (len > OSRELEASE_MAX_SIZE)
                return bimg_fail(err, BIMG_E_INVALID,
                                 "os-release is %zu bytes; an os-release file is at most 64 KiB",
                                 len);
        for (size_t i = 0; i < len;) {
                size_t n;

                if (s[i] == 0)
                        return bimg_fail(err, BIMG_E_INVALID,
                                         "os-release holds a NUL byte at offset %zu; "
                                         "it is not a text file", i);
                if (s[i] < 0x80) {
                        if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') ||
                            s[i] == 0x7f)
                                bad++;
                        i++;
                        continue;
                }
                n = utf8_len(s + i, len - i);
                if (n == 0) {
                        bad++;
                        n = 1;
                }
                i += n;
        }
        if (bad > len / 10)
                return bimg_fail(err, BIMG_E_INVALID,
                                 "os-release has %zu control or non-UTF-8 bytes in %zu; "
                                 "it is not a text file", bad, len);
        return 0;
}

/* Unquote the value in [p, end) into out (which has room for end - p + 1 bytes,
 * enough since unquoting never grows it). Returns false if the value does not
 * parse, and the line is then skipped. */
static bool unquote(const char *p, const char *end, char *out)
{
        const char *end_quote;
        char quote = 0;
        size_t n = 0;

        if (p < end && (*p == '"' || *p == '\''))
                quote = *p++;
        if (!quote) {
                bool word_start = false;

                for (; p < end; p++) {
                        if (*p == '#' && word_start)
                                break;          /* shell comment: '#' starting a word */
                        word_start = is_blank(*p);
                        if (*p == '\\' && p + 1 < end)
                                p++;
                        out[n++] = *p;
                }
                while (n > 0 && is_blank(out[n - 1]))
                        n--;
                out[n] = '\0';
                return true;
        }
        for (;; p++) {
                if (p >= end)
                        return false;           /* unterminated, or continued on a next line */
                if (*p == quote)
                        break;
                if (quote == '"' && *p == '\\' && p + 1 < end && strchr("\"\\$`", p[1]))
                        p++;
                out[n++] = *p;
        }
        out[n] = '\0';
        end_quote = ++p;
        while (p < end && is_blank(*p))
                p++;
        return p == end || (*p == '#' && p > end_quote);
}

/* Append key (klen bytes, not terminated) = value, taking ownership of value.
 * Duplicates are kept and lookups search from the end, so a later KEY wins and a
 * hostile file with thousands of keys still parses in linear time. */
static int add_entry(struct bimg_osrelease *osr, const char *key, size_t klen, char *value)
{
        struct entry *e;

        if (osr->n_entries == osr->allocated) {
                size_t want = osr->allocated ? osr->allocated * 2 : 16;
                struct entry *grown = realloc(osr->entries, want * sizeof(*grown));

                if (!grown)
                        return -1;
                osr->entries = grown;
                osr->allocated = want;
        }
        e = &osr->entries[osr->n_entries];
        e->key = malloc(klen + 1);
        if (!e->key)
                return -1;
        memcpy(e->key, key, klen);
        e->key[klen] = '\0';
        e->value = value;
        osr->n_entries++;
        return 0;
}

/* Parse one line [p, end) without its '\n'. Returns -1 only when out of memory. */
static int parse_line(struct bimg_osrelease *osr, const char *p, const char *end)
{
        const char *key, *eq;
        size_t klen;
        char *value;

        while (p < end && is_blank(*p))
                p++;
        while (end > p && is_blank(end[-1]))
                end--;
        if (p == end || *p == '#')
                return 0;
        key = p;
        if (!is_key_start(*p))
                return 0;
        while (p < end && is_key_char(*p))
                p++;
        klen = (size_t)(p - key);
        for (eq = p; eq < end && is_blank(*eq); eq++)
                ;
        if (eq == end || *eq != '=')
                return 0;
        for (p = eq + 1; p < end && is_blank(*p); p++)
                ;
        value = malloc((size_t)(end - p) + 1);
        if (!value)
                return -1;
        if (!unquote(p, end, value)) {
                free(value);
                return 0;
        }
        if (add_entry(osr, key, klen, value) < 0) {
                free(value);
                return -1;
        }
        return 0;
}

int bimg_osrelease_parse(const char *text, size_t len, struct bimg_osrelease **ret_osr,
                         struct bimg_error *err)
{
        struct bimg_osrelease *osr = NULL;
        const char *p, *end;
        int ret = -1;

        if (!text) {
                if (len > 0)
                        return bimg_fail(err, BIMG_E_FAILURE, "os-release text missing");
                text = "";
        }
        p = text;
        end = text + len;
        if (check_text(text, len, err) < 0)
                return -1;
        osr = calloc(1, sizeof(*osr));
        if (!osr)
                goto oom;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = nl ? nl : end;

                if (parse_line(osr, p, line_end) < 0)
                        goto oom;
                p = nl ? nl + 1 : end;
        }
        *ret_osr = osr;
        osr = NULL;
        ret = 0;
        goto out;
oom:
        bimg_fail(err, BIMG_E_FAILURE, "out of memory reading os-release");
out:
        bimg_osrelease_free(osr);
        return ret;
}

void bimg_osrelease_free(struct bimg_osrelease *osr)
{
        if (!osr)
                return;
        for (size_t i = 0; i < osr->n_entries; i++) {
                free(osr->entries[i].key);
                free(osr->entries[i].value);
        }
        free(osr->entries);
        free(osr);
}

const char *bimg_osrelease_get(const struct bimg_osrelease *osr, const char *key)
{
        if (!osr || !key)
                return NULL;
        for (size_t i = osr->n_entries; i > 0; i--)     /* the last one wins */
                if (strcmp(osr->entries[i - 1].key, key) == 0)
                        return osr->entries[i - 1].value;
        return NULL;
}
