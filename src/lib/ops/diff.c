/* SPDX-License-Identifier: Apache-2.0 */
/* A unified diff for --dry-run: longest common subsequence over lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

#define MAX_LINES 2000         /* 8 MiB of table at most */
#define CONTEXT 3

struct lines {
        const char **start;
        size_t *len;
        size_t n;
};

static int split(const char *text, size_t len, struct lines *ret)
{
        size_t n = 0, cap = 16;

        ret->start = malloc(cap * sizeof(*ret->start));
        ret->len = malloc(cap * sizeof(*ret->len));
        if (!ret->start || !ret->len)
                return -1;
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t l = nl ? (size_t)(nl - (text + i)) + 1 : len - i;

                if (n == cap) {
                        cap *= 2;
                        const char **s = realloc(ret->start, cap * sizeof(*s));
                        size_t *ln = s ? realloc(ret->len, cap * sizeof(*ln)) : NULL;

                        if (s)
                                ret->start = s;
                        if (!s || !ln)
                                return -1;
                        ret->len = ln;
                }
                ret->start[n] = text + i;
                ret->len[n++] = l;
                i += l;
        }
        ret->n = n;
        return 0;
}

struct out {
        char *buf;
        size_t len, cap;
        bool failed;
};

static void emit(struct out *o, char mark, const char *line, size_t len)
{
        static const char no_newline[] = "\\ No newline at end of file\n";
        bool nl = len > 0 && line[len - 1] == '\n';
        size_t need = o->len + len + sizeof(no_newline) + 2;

        if (o->failed)
                return;
        if (need > o->cap) {
                char *b = realloc(o->buf, need * 2);

                if (!b) {
                        o->failed = true;
                        return;
                }
                o->buf = b;
                o->cap = need * 2;
        }
        o->buf[o->len++] = mark;
        memcpy(o->buf + o->len, line, len);
        o->len += len;
        if (!nl) {      /* patch(1) needs the marker to reproduce the file exactly */
                o->buf[o->len++] = '\n';
                if (mark != '@' && !(mark == '-' && line[0] == '-' && line[1] == '-') &&
                    !(mark == '+' && line[0] == '+' && line[1] == '+')) {
                        memcpy(o->buf + o->len, no_newline, sizeof(no_newline) - 1);
                        o->len += sizeof(no_newline) - 1;
                }
        }
        o->buf[o->len] = '\0';
}

/* The edit script as one mark per step: ' ' keep, '-' delete, '+' add. */
static char *edit_script(const struct lines *a, const struct lines *b, size_t *ret_n)
{
        size_t n = a->n, m = b->n, k = 0;
        unsigned short *dp;
        char *script;

        if (n > MAX_LINES || m > MAX_LINES) {   /* one hunk: all out, all in */
                script = malloc(n + m + 1);
                if (!script)
                        return NULL;
                memset(script, '-', n);
                memset(script + n, '+', m);
                *ret_n = n + m;
                return script;
        }
        dp = calloc((n + 1) * (m + 1), sizeof(*dp));
        script = malloc(n + m + 1);
        if (!dp || !script) {
                free(dp);
                free(script);
                return NULL;
        }
        for (size_t i = n; i-- > 0;)
                for (size_t j = m; j-- > 0;) {
                        bool eq = a->len[i] == b->len[j] &&
                                  memcmp(a->start[i], b->start[j], a->len[i]) == 0;
                        unsigned short down = dp[(i + 1) * (m + 1) + j];
                        unsigned short right = dp[i * (m + 1) + j + 1];

                        dp[i * (m + 1) + j] = eq ? dp[(i + 1) * (m + 1) + j + 1] + 1
                                                 : down > right ? down : right;
                }
        for (size_t i = 0, j = 0; i < n || j < m;) {
                if (i < n && j < m && a->len[i] == b->len[j] &&
                    memcmp(a->start[i], b->start[j], a->len[i]) == 0) {
                        script[k++] = ' ';
                        i++;
                        j++;
                } else if (j < m && (i == n || dp[i * (m + 1) + j + 1] > dp[(i + 1) * (m + 1) + j])) {
                        /* on a tie the deletion goes first, as diff(1) prints it */
                        script[k++] = '+';
                        j++;
                } else {
                        script[k++] = '-';
                        i++;
                }
        }
        free(dp);
        *ret_n = k;
        return script;
}

/* One hunk: script steps [from, to), with a and b line numbers where it starts. */
static void emit_hunk(struct out *o, const char *script, size_t from, size_t to,
                      const struct lines *la, const struct lines *lb, size_t ai, size_t bi)
{
        size_t ac = 0, bc = 0;
        char header[96];

        for (size_t k = from; k < to; k++) {
                ac += script[k] != '+';
                bc += script[k] != '-';
        }
        /* an empty side is numbered from the line before it, as diff(1) does */
        snprintf(header, sizeof(header), "@ -%zu,%zu +%zu,%zu @@", ac ? ai + 1 : ai, ac,
                 bc ? bi + 1 : bi, bc);
        emit(o, '@', header, strlen(header));
        for (size_t k = from; k < to; k++) {
                if (script[k] != '+')
                        emit(o, script[k], la->start[ai], la->len[ai]);
                else
                        emit(o, '+', lb->start[bi], lb->len[bi]);
                ai += script[k] != '+';
                bi += script[k] != '-';
        }
}

int diff_unified(const char *name, const char *a, size_t alen, const char *b, size_t blen,
                 char **ret, struct bimg_error *err)
{
        struct lines la = { 0 }, lb = { 0 };
        struct out o = { 0 };
        char *script = NULL, header[600];
        size_t n = 0, ai = 0, bi = 0;
        int status = -1;

        if (split(a, alen, &la) < 0 || split(b, blen, &lb) < 0 ||
            !(script = edit_script(&la, &lb, &n)))
                goto out;
        for (size_t k = 0; k < n;) {
                size_t first, last, from, to;

                if (script[k] == ' ') {
                        k++;
                        ai++;
                        bi++;
                        continue;
                }
                /* changes closer than 2*CONTEXT unchanged lines share a hunk */
                first = last = k;
                for (size_t j = k + 1; j < n && j <= last + 2 * CONTEXT + 1; j++)
                        if (script[j] != ' ')
                                last = j;
                from = first >= CONTEXT ? first - CONTEXT : 0;
                to = last + 1 + CONTEXT < n ? last + 1 + CONTEXT : n;
                if (o.len == 0) {
                        snprintf(header, sizeof(header), "-- a/%s", name);
                        emit(&o, '-', header, strlen(header));
                        snprintf(header, sizeof(header), "++ b/%s", name);
                        emit(&o, '+', header, strlen(header));
                }
                emit_hunk(&o, script, from, to, &la, &lb, ai - (first - from),
                          bi - (first - from));
                for (size_t j = first; j < to; j++) {
                        ai += script[j] != '+';
                        bi += script[j] != '-';
                }
                k = to;
        }
        if (o.failed)
                goto out;
        *ret = o.buf ? o.buf : strdup("");
        o.buf = NULL;
        status = *ret ? 0 : -1;
out:
        if (status < 0)
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        free(o.buf);
        free(script);
        free(la.start);
        free(la.len);
        free(lb.start);
        free(lb.len);
        return status;
}
