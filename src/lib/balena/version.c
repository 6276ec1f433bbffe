/* SPDX-License-Identifier: Apache-2.0 */
/*
 * balenaOS version strings (balenaos-spec.md §6.1). Not semver: a board revision
 * "+revN" sorts after the plain release, and "_revN" (Docker tags, file names) is
 * the same thing.
 *
 * Accepted grammar, the whole string and nothing else (no surrounding spaces):
 *
 *   version  = [ "v" | "V" ] number "." number "." number [ pre ] [ rev ] [ variant ]
 *   number   = 1*DIGIT                     decimal, must fit in unsigned long
 *   pre      = "-" label                   kept in .pre without the '-', at most 31 chars
 *   label    = 1*ALNUM *( "." 1*ALNUM )    a final ".dev"/".prod" is not part of it
 *   rev      = ( "+" | "_" ) "rev" 1*DIGIT lower-case "rev", N >= 0, fits unsigned long
 *   variant  = ( "." | "+" ) ( "dev" | "prod" )    lower case, only at the very end
 *
 * So "2.44.0", "v2.44.0+rev1", "2.44.0_rev1", "2.0.0-beta0+rev2", "2.29.2+rev1.prod",
 * "2.1.0-beta.13.dev", "2.44.0+dev" and "2019.10.0" (calendar ESR) parse, while
 * "2.44", "2.x.1", "2.44.0+rev", "2.44.0+revX", "2.44.0-", "2.44.0-beta1.dev+rev1"
 * (variant before revision) and " 2.44.0" do not. "+dev"/"+prod" are unambiguous
 * because a label cannot contain '+' and "rev" is the only other word after '+'.
 * Leading zeros ("2.044.0") are read as decimal.
 */
#include <limits.h>
#include <string.h>

#include "balena-img.h"

#define MAX_QUOTED 100          /* of the user's text in an error message */

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Read 1*DIGIT at *p into *ret and advance *p; false if there is no digit or the
 * number does not fit. strtoul() would also take signs and leading spaces. */
static bool parse_number(const char **p, unsigned long *ret)
{
        const char *s = *p;
        unsigned long n = 0;

        if (!is_digit(*s))
                return false;
        for (; is_digit(*s); s++) {
                unsigned long d = (unsigned long)(*s - '0');

                if (n > (ULONG_MAX - d) / 10)
                        return false;
                n = n * 10 + d;
        }
        *p = s;
        *ret = n;
        return true;
}

/* The variant suffix (".dev", "+prod", ...) if s is exactly one, else NULL. */
static const char *match_variant(const char *s)
{
        if (s[0] != '.' && s[0] != '+')
                return NULL;
        if (strcmp(s + 1, "dev") == 0)
                return "dev";
        if (strcmp(s + 1, "prod") == 0)
                return "prod";
        return NULL;
}

/* True if s starts with ".dev" or ".prod" ending the label (not followed by
 * another label character): that is the variant, not part of the label. */
static bool at_label_variant(const char *s)
{
        if (strncmp(s, ".dev", 4) == 0 && !is_alnum(s[4]) && s[4] != '.')
                return true;
        return strncmp(s, ".prod", 5) == 0 && !is_alnum(s[5]) && s[5] != '.';
}

/* label = 1*ALNUM *( "." 1*ALNUM ); copies it into out (out_size includes the NUL). */
static bool parse_label(const char **p, char *out, size_t out_size)
{
        const char *s = *p, *start = *p;
        size_t len;

        for (;;) {
                if (!is_alnum(*s))
                        return false;   /* empty label or empty dot-component */
                while (is_alnum(*s))
                        s++;
                if (*s != '.' || at_label_variant(s))
                        break;
                s++;
        }
        len = (size_t)(s - start);
        if (len >= out_size)
                return false;
        memcpy(out, start, len);
        out[len] = '\0';
        *p = s;
        return true;
}

int bimg_version_parse(const char *text, struct bimg_version *ret_v, struct bimg_error *err)
{
        struct bimg_version v = { 0 };
        const char *p = text ? text : "";
        const char *variant;

        if (*p == 'v' || *p == 'V')
                p++;
        if (!parse_number(&p, &v.major) || *p++ != '.' ||
            !parse_number(&p, &v.minor) || *p++ != '.' ||
            !parse_number(&p, &v.patch))
                goto invalid;
        if (*p == '-') {
                p++;
                if (!parse_label(&p, v.pre, sizeof(v.pre)))
                        goto invalid;
                v.has_pre = true;
        }
        if ((*p == '+' || *p == '_') && strncmp(p + 1, "rev", 3) == 0) {
                p += 4;
                if (!parse_number(&p, &v.rev))
                        goto invalid;   /* "+rev", "+revX", or too large */
        }
        if (*p) {
                variant = match_variant(p);
                if (!variant)
                        goto invalid;
                strcpy(v.variant, variant);
        }
        *ret_v = v;
        return 0;

invalid:
        return bimg_fail(err, BIMG_E_INVALID,
                         "'%.*s' is not a balenaOS version (expected X.Y.Z[-beta][+revN])",
                         MAX_QUOTED, text ? text : "");
}

static int cmp_ulong(unsigned long a, unsigned long b)
{
        return (a > b) - (a < b);
}

/* Compare two digit strings by value without converting (labels may hold more
 * digits than an unsigned long). */
static int cmp_digits(const char *a, size_t alen, const char *b, size_t blen)
{
        int r;

        while (alen > 0 && *a == '0') {
                a++;
                alen--;
        }
        while (blen > 0 && *b == '0') {
                b++;
                blen--;
        }
        if (alen != blen)
                return alen < blen ? -1 : 1;
        r = memcmp(a, b, alen);
        return (r > 0) - (r < 0);
}

/* Labels order by (text before the trailing digits, no number < number, number
 * by value, whole label by strcmp): "beta2" < "beta10" < "rc1". Comparing the
 * prefixes rather than whole labels keeps the order transitive. */
static int cmp_label(const char *a, const char *b)
{
        size_t alen = strlen(a), blen = strlen(b), apre = alen, bpre = blen;
        int r;

        while (apre > 0 && is_digit(a[apre - 1]))
                apre--;
        while (bpre > 0 && is_digit(b[bpre - 1]))
                bpre--;
        r = memcmp(a, b, apre < bpre ? apre : bpre);
        if (r == 0 && apre != bpre)
                r = apre < bpre ? -1 : 1;
        if (r == 0 && (apre == alen) != (bpre == blen))
                r = apre == alen ? -1 : 1;      /* "beta" < "beta1" */
        if (r == 0)
                r = cmp_digits(a + apre, alen - apre, b + bpre, blen - bpre);
        if (r == 0)
                r = strcmp(a, b);               /* "beta01" vs "beta1": equal value */
        return (r > 0) - (r < 0);
}

int bimg_version_compare(const struct bimg_version *a, const struct bimg_version *b)
{
        int r;

        if ((r = cmp_ulong(a->major, b->major)) != 0 ||
            (r = cmp_ulong(a->minor, b->minor)) != 0 ||
            (r = cmp_ulong(a->patch, b->patch)) != 0)
                return r;
        if (a->has_pre != b->has_pre)
                return a->has_pre ? -1 : 1;     /* 2.44.0-beta1 < 2.44.0 */
        if (a->has_pre && (r = cmp_label(a->pre, b->pre)) != 0)
                return r;
        return cmp_ulong(a->rev, b->rev);       /* absent counts as 0 */
}

int bimg_version_cmp(const char *a, const char *b)
{
        struct bimg_version va, vb;
        bool a_ok = bimg_version_parse(a, &va, NULL) == 0;
        bool b_ok = bimg_version_parse(b, &vb, NULL) == 0;
        int r;

        if (a_ok && b_ok)
                return bimg_version_compare(&va, &vb);
        if (a_ok != b_ok)
                return a_ok ? 1 : -1;           /* unparsable sorts first */
        r = strcmp(a ? a : "", b ? b : "");
        return (r > 0) - (r < 0);
}
