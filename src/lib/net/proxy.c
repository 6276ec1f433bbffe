/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two files of system-proxy/ in the boot partition (spec 4.2). Both are read
 * on the device by programs that stop at the first thing they dislike, and a
 * stopped proxy leaves the device offline, so each check mirrors the reader:
 * - no_proxy: balena-proxy-config runs `iptables -t nat -A REDSOCKS -d "$line"`
 *   for every line under `set -e`;
 * - redsocks.conf: the parser of redsocks (darkk/redsocks @27b1788, the commit
 *   meta-balena builds), its token rules and the keys of its base and redsocks
 *   sections.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PROXY_FILE (1024 * 1024)

static const char letters_digits[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

static bool is_ipv4(const char *s)
{
        struct in_addr a;

        return inet_pton(AF_INET, s, &a) == 1;  /* dotted quad only, no "10.1" shorthands */
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-', 1-63 bytes
 * each, not starting or ending with '-'; at most 253 bytes; not all digits and dots. */
static bool is_hostname(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 253 || strspn(s, "0123456789.") == len)
                return false;
        while (*s) {
                size_t label = strcspn(s, ".");

                if (label == 0 || label > 63 || s[0] == '-' || s[label - 1] == '-')
                        return false;
                for (size_t i = 0; i < label; i++)
                        if (!strchr(letters_digits, s[i]) && s[i] != '-')
                                return false;
                s += label;
                if (*s == '.' && !*++s)
                        return false;   /* empty label after a final '.' */
        }
        return true;
}

/* Decimal without sign, spaces or leading zeros (strtoul base 0 in redsocks would read
 * "010" as octal and refuse "08"). */
static bool parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
        unsigned long v = 0;

        if (!*s || strspn(s, "0123456789") != strlen(s) || (s[0] == '0' && s[1]) ||
            strlen(s) > 10)
                return false;
        for (; *s; s++)
                v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
                return false;
        *ret = v;
        return true;
}

/* ---- no_proxy ----------------------------------------------------------- */

static int check_no_proxy_line(const char *line, size_t len, unsigned n, const char *origin,
                               struct bimg_error *err)
{
        char buf[300], *slash;
        unsigned long prefix;

        if (len == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: line %u is empty; every line goes to "
                                 "iptables, which fails on an empty one and stops the proxy "
                                 "setup", origin, n);
        if (memchr(line, '\r', len))
                return bimg_fail(err, BIMG_E_INVALID, "%s: line %u ends with CR (Windows line "
                                 "ending); save the file with LF line endings", origin, n);
        if (line[0] == '#')
                return bimg_fail(err, BIMG_E_INVALID, "%s: line %u is a comment; no_proxy "
                                 "allows none, every line goes to iptables", origin, n);
        if (isspace((unsigned char)line[0]) || isspace((unsigned char)line[len - 1]))
                return bimg_fail(err, BIMG_E_INVALID, "%s: line %u has leading or trailing "
                                 "spaces; iptables would refuse it", origin, n);
        for (size_t i = 0; i < len; i++)
                if (isspace((unsigned char)line[i]) || (unsigned char)line[i] < 0x20)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: line %u has a space or "
                                         "control character; write one address per line",
                                         origin, n);
        if (len >= sizeof(buf))
                return bimg_fail(err, BIMG_E_INVALID, "%s: line %u is %zu bytes long; not an "
                                 "address or host name", origin, n, len);
        memcpy(buf, line, len);
        buf[len] = '\0';

        if (strchr(buf, ':'))
                return bimg_fail(err, BIMG_E_INVALID, "%s: line %u: '%s' is IPv6; the OS applies "
                                 "no_proxy with iptables, which takes IPv4 only", origin, n, buf);
        slash = strchr(buf, '/');
        if (slash) {
                *slash = '\0';
                if (!is_ipv4(buf))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: line %u: '%s' is not an "
                                         "IPv4 address before '/'", origin, n, buf);
                if (!parse_uint(slash + 1, 32, &prefix) && !is_ipv4(slash + 1))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: line %u: '/%s' is not a "
                                         "prefix length (0-32) or a dotted netmask", origin, n,
                                         slash + 1);
                return 0;
        }
        if (strspn(buf, "0123456789.") == len) {
                if (!is_ipv4(buf))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: line %u: '%s' is not a valid "
                                         "IPv4 address", origin, n, buf);
                return 0;
        }
        if (buf[0] == '.' || buf[0] == '*')
                return bimg_fail(err, BIMG_E_INVALID, "%s: line %u: '%s' is a domain pattern; "
                                 "no_proxy takes IPv4 addresses, CIDR ranges or single host "
                                 "names", origin, n, buf);
        if (!is_hostname(buf))
                return bimg_fail(err, BIMG_E_INVALID, "%s: line %u: '%s' is not an IPv4 address, "
                                 "CIDR range or host name", origin, n, buf);
        return 0;
}

int net_check_no_proxy(const char *text, size_t len, const char *origin, struct bimg_error *err)
{
        const char *p = text, *end = text + len;
        unsigned n = 0;

        if (!origin)
                origin = "no_proxy";
        if (!text && len)
                return bimg_fail(err, BIMG_E_FAILURE, "%s: no text", origin);
        if (len > MAX_PROXY_FILE)
                return bimg_fail(err, BIMG_E_INVALID, "%s: %zu bytes; no_proxy is at most 1 MiB",
                                 origin, len);
        if (len && memchr(text, '\0', len))
                return bimg_fail(err, BIMG_E_INVALID, "%s: contains a NUL byte; no_proxy is a "
                                 "text file", origin);
        /* the script's `read -r line || [ -n "$line" ]` also takes a last line without
         * a newline, so only a line that has something in it counts */
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t line_len = nl ? (size_t)(nl - p) : (size_t)(end - p);

                n++;
                if (check_no_proxy_line(p, line_len, n, origin, err) < 0)
                        return -1;
                p += line_len + (nl ? 1 : 0);
        }
        return 0;
}

/* ---- redsocks.conf: tokens ---------------------------------------------- */

enum tok { T_EOF, T_WORD, T_LBRACE, T_RBRACE, T_EQ, T_SEMI, T_ERROR };

struct lexer {
        const char *p, *end;
        const char *tail;       /* after the last '\n': redsocks never reads this part */
        const char *origin;
        unsigned line;          /* of the current position */
        unsigned tok_line;      /* where the last token started */
        char word[1024];
        struct bimg_error *err;
};

static enum tok lex_fail(struct lexer *lx, const char *what)
{
        bimg_fail(lx->err, BIMG_E_INVALID, "%s: line %u: %s", lx->origin, lx->line, what);
        return T_ERROR;
}

/* Skip blanks and comments ("//" to the end of the line, "/ * ... * /"). */
static int skip_space(struct lexer *lx)
{
        while (lx->p < lx->end) {
                if (*lx->p == '\n') {
                        lx->line++;
                        lx->p++;
                } else if (isspace((unsigned char)*lx->p)) {
                        lx->p++;
                } else if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/') {
                        while (lx->p < lx->end && *lx->p != '\n')
                                lx->p++;
                } else if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
                        unsigned start = lx->line;

                        for (lx->p += 2;; lx->p++) {
                                if (lx->p + 1 >= lx->end) {
                                        lx->line = start;
                                        lex_fail(lx, "comment '/*' is never closed");
                                        return -1;
                                }
                                if (*lx->p == '\n')
                                        lx->line++;
                                if (lx->p[0] == '*' && lx->p[1] == '/')
                                        break;
                        }
                        lx->p += 2;
                } else {
                        break;
                }
        }
        return 0;
}

static char unescape(char c)
{
        switch (c) {
        case 'n': return '\n';
        case 't': return '\t';
        case 'r': return '\r';
        case '\\': return '\\';
        case '\'': return '\'';
        case '"': return '"';
        default: return 0;
        }
}

/* The token kinds of redsocks' gettoken(): a quoted string with escapes, a number or
 * address/netmask starting with a digit, a word starting with a letter (letters,
 * digits, '_', '.', '-'), or one of { } = ; */
static enum tok lex_next(struct lexer *lx)
{
        size_t n = 0;
        char c;

        if (skip_space(lx) < 0)
                return T_ERROR;
        if (lx->p >= lx->end)
                return T_EOF;
        lx->tok_line = lx->line;
        c = *lx->p;
        if (lx->p >= lx->tail)
                return lex_fail(lx, "the last line has no newline, and redsocks never reads "
                                "such a line; end the file with a newline");
        if (strchr("{}=;", c)) {
                lx->p++;
                return c == '{' ? T_LBRACE : c == '}' ? T_RBRACE : c == '=' ? T_EQ : T_SEMI;
        }
        if (c == '"') {
                for (lx->p++;; lx->p++) {
                        if (lx->p >= lx->end)
                                return lex_fail(lx, "quoted string is never closed");
                        if (*lx->p == '"')
                                break;
                        c = *lx->p;
                        if (c == '\\') {
                                if (lx->p + 1 >= lx->end || !unescape(lx->p[1]))
                                        return lex_fail(lx, "unknown escape in a quoted string "
                                                        "(use \\n \\t \\r \\\\ \\' \\\")");
                                c = unescape(*++lx->p);
                        } else if (c == '\n') {
                                lx->line++;
                        }
                        if (n + 1 >= sizeof(lx->word))
                                return lex_fail(lx, "quoted string is too long");
                        lx->word[n++] = c;
                }
                lx->p++;
        } else if (isdigit((unsigned char)c) || isalpha((unsigned char)c)) {
                bool digit = isdigit((unsigned char)c);

                while (lx->p < lx->end) {
                        c = *lx->p;
                        if (digit && c == '/' && lx->p + 1 < lx->end &&
                            isdigit((unsigned char)lx->p[1]))
                                ;               /* 10.0.0.0/8 */
                        else if (digit && c == '/' && lx->p + 1 < lx->end &&
                                 (lx->p[1] == '/' || lx->p[1] == '*'))
                                break;          /* a comment follows */
                        else if (digit && c == '/')
                                return lex_fail(lx, "unexpected '/' after a number");
                        else if (digit ? !(isdigit((unsigned char)c) || c == '.') :
                                 !(isalnum((unsigned char)c) || strchr("_.-", c)))
                                break;
                        if (n + 1 >= sizeof(lx->word))
                                return lex_fail(lx, "word is too long");
                        lx->word[n++] = c;
                        lx->p++;
                }
        } else {
                char what[80];

                if (isprint((unsigned char)c))
                        snprintf(what, sizeof(what), "unexpected character '%c'%s", c,
                                 c == '<' ? " (replace the <PLACEHOLDER> with a value)" :
                                 c == '#' ? " (comments are // or /* */)" : "");
                else
                        snprintf(what, sizeof(what), "unexpected byte 0x%02x",
                                 (unsigned char)c);
                return lex_fail(lx, what);
        }
        lx->word[n] = '\0';
        return T_WORD;
}

/* ---- redsocks.conf: sections and keys ----------------------------------- */

enum vtype { V_STRING, V_BOOL, V_U16, V_U32, V_PORT, V_ADDR, V_TYPE, V_REDIRECTOR,
             V_DISCLOSE, V_ONFAIL };

struct key_rule {
        const char *key;
        enum vtype type;
};

static const struct key_rule base_keys[] = {            /* base.c base_entries */
        { "chroot", V_STRING }, { "user", V_STRING }, { "group", V_STRING },
        { "redirector", V_REDIRECTOR }, { "log", V_STRING }, { "log_debug", V_BOOL },
        { "log_info", V_BOOL }, { "daemon", V_BOOL }, { "tcp_keepalive_time", V_U16 },
        { "tcp_keepalive_probes", V_U16 }, { "tcp_keepalive_intvl", V_U16 },
        { "rlimit_nofile", V_U32 }, { "redsocks_conn_max", V_U32 },
        { "connpres_idle_timeout", V_U32 }, { "max_accept_backoff", V_U32 },
        { NULL, V_STRING },
};

static const struct key_rule redsocks_keys[] = {        /* redsocks.c redsocks_entries */
        { "local_ip", V_ADDR }, { "local_port", V_U16 }, { "ip", V_ADDR }, { "port", V_PORT },
        { "type", V_TYPE }, { "login", V_STRING }, { "password", V_STRING },
        { "listenq", V_U16 }, { "splice", V_BOOL }, { "disclose_src", V_DISCLOSE },
        { "on_proxy_fail", V_ONFAIL },
        { NULL, V_STRING },
};

static const struct section_rule {
        const char *name;
        const struct key_rule *keys;    /* NULL: keys not checked */
} sections[] = {
        { "base", base_keys },
        { "redsocks", redsocks_keys },
        { "redudp", NULL },
        { "dnstc", NULL },
        { "dnsu2t", NULL },             /* balena's patch 0002 */
};

static bool in_list(const char *word, const char *const *list)
{
        for (; *list; list++)
                if (strcmp(word, *list) == 0)
                        return true;
        return false;
}

struct section_state {
        const struct section_rule *rule;
        unsigned line;
        bool has_type, has_ip, has_port, has_redirector, zero_backoff;
        bool http_connect;
        unsigned disclose_line, onfail_line;    /* non-default values, 0 if none */
};

static int check_value(struct lexer *lx, struct section_state *sec, const char *key,
                       const char *value)
{
        static const char *const bools[] = { "ok", "on", "yes", "true", "off", "no", "false",
                                             NULL };
        static const char *const types[] = { "socks4", "socks5", "http-connect", "http-relay",
                                             NULL };
        static const char *const redirectors[] = { "iptables", "generic", NULL };
        static const char *const disclose[] = { "off", "no", "false", "X-Forwarded-For",
                                                "Forwarded_ip", "Forwarded_ipport", NULL };
        static const char *const onfail[] = { "close", "forward_http_err", NULL };
        const struct key_rule *rule = sec->rule->keys;
        const char *expected = NULL;
        unsigned long v;

        if (!rule)
                return 0;
        while (rule->key && strcmp(rule->key, key) != 0)
                rule++;
        if (!rule->key)
                return bimg_fail(lx->err, BIMG_E_INVALID, "%s: line %u: unknown key '%s' in "
                                 "section '%s'; redsocks refuses to start", lx->origin,
                                 lx->tok_line, key, sec->rule->name);
        switch (rule->type) {
        case V_STRING:
                break;
        case V_BOOL:
                if (!in_list(value, bools))
                        expected = "on or off";
                break;
        case V_U16:
                if (!parse_uint(value, 65535, &v))
                        expected = "a number from 0 to 65535";
                break;
        case V_U32:
                if (!parse_uint(value, 4294967295UL, &v))
                        expected = "a number from 0 to 4294967295";
                else if (strcmp(key, "max_accept_backoff") == 0 && v == 0)
                        sec->zero_backoff = true;
                break;
        case V_PORT:
                if (!parse_uint(value, 65535, &v) || v == 0)
                        expected = "a port from 1 to 65535";
                sec->has_port = true;
                break;
        case V_ADDR:
                if (!is_ipv4(value) && !is_hostname(value))
                        expected = "an IPv4 address or a host name";
                if (strcmp(key, "ip") == 0)
                        sec->has_ip = true;
                break;
        case V_TYPE:
                if (!in_list(value, types))
                        expected = "socks4, socks5, http-connect or http-relay";
                sec->has_type = true;
                sec->http_connect = strcmp(value, "http-connect") == 0;
                break;
        case V_REDIRECTOR:
                if (!in_list(value, redirectors))
                        expected = "iptables (or generic)";
                sec->has_redirector = true;
                break;
        case V_DISCLOSE:
                if (!in_list(value, disclose))
                        expected = "off, X-Forwarded-For, Forwarded_ip or Forwarded_ipport";
                sec->disclose_line = in_list(value, bools) ? 0 : lx->tok_line;
                break;
        case V_ONFAIL:
                if (!in_list(value, onfail))
                        expected = "close or forward_http_err";
                sec->onfail_line = strcmp(value, "close") == 0 ? 0 : lx->tok_line;
                break;
        }
        if (expected)
                return bimg_fail(lx->err, BIMG_E_INVALID, "%s: line %u: %s.%s is '%s'; expected "
                                 "%s", lx->origin, lx->tok_line, sec->rule->name, key, value,
                                 expected);
        return 0;
}

/* What redsocks checks when a section closes (base_onexit, redsocks_onexit), plus
 * ip and port, which redsocks would default to 127.0.0.1:0. */
static int close_section(struct lexer *lx, const struct section_state *sec)
{
        const char *name = sec->rule->name, *missing = NULL;

        if (strcmp(name, "base") == 0) {
                if (!sec->has_redirector)
                        missing = "redirector (use redirector = iptables;)";
                else if (sec->zero_backoff)
                        return bimg_fail(lx->err, BIMG_E_INVALID, "%s: section 'base' at line %u:"
                                         " max_accept_backoff must be positive", lx->origin,
                                         sec->line);
        } else if (strcmp(name, "redsocks") == 0) {
                if (!sec->has_type)
                        missing = "type (socks4, socks5, http-connect or http-relay)";
                else if (!sec->has_ip)
                        missing = "ip (the proxy server's address)";
                else if (!sec->has_port)
                        missing = "port (the proxy server's port)";
                else if (!sec->http_connect && (sec->disclose_line || sec->onfail_line))
                        return bimg_fail(lx->err, BIMG_E_INVALID, "%s: line %u: only type "
                                         "http-connect supports %s", lx->origin,
                                         sec->disclose_line ? sec->disclose_line :
                                         sec->onfail_line,
                                         sec->disclose_line ? "disclose_src" : "on_proxy_fail");
        }
        if (missing)
                return bimg_fail(lx->err, BIMG_E_INVALID, "%s: section '%s' at line %u has no "
                                 "%s", lx->origin, name, sec->line, missing);
        return 0;
}

int net_check_redsocks(const char *text, size_t len, const char *origin, struct bimg_error *err)
{
        enum { OUTSIDE, NAMED, IN_SECTION, KEYED, ASSIGNING, VALUED } state = OUTSIDE;
        struct lexer *lx;
        struct section_state sec = { 0 };
        char name[64] = "", key[64] = "";
        unsigned n_base = 0, n_redsocks = 0, value_line = 0;
        const char *nl;
        int ret = -1;

        if (!origin)
                origin = "redsocks.conf";
        if (!text && len)
                return bimg_fail(err, BIMG_E_FAILURE, "%s: no text", origin);
        if (len > MAX_PROXY_FILE)
                return bimg_fail(err, BIMG_E_INVALID, "%s: %zu bytes; redsocks.conf is at most "
                                 "1 MiB", origin, len);
        if (len && memchr(text, '\0', len))
                return bimg_fail(err, BIMG_E_INVALID, "%s: contains a NUL byte; redsocks.conf is "
                                 "a text file", origin);
        lx = calloc(1, sizeof(*lx));
        if (!lx)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        lx->p = text ? text : "";
        lx->end = lx->p + len;
        for (nl = lx->end; nl > lx->p && nl[-1] != '\n'; nl--)
                ;
        lx->tail = nl;
        lx->origin = origin;
        lx->line = 1;
        lx->err = err;

        for (;;) {
                enum tok t = lex_next(lx);
                const char *w = lx->word;

                if (t == T_ERROR)
                        goto out;
                if (t == T_EOF)
                        break;
                switch (state) {
                case OUTSIDE:
                        if (t != T_WORD) {
                                lex_fail(lx, t == T_LBRACE ? "'{' without a section name" :
                                         t == T_RBRACE ? "'}' without an open section" :
                                         "assignment outside any section");
                                goto out;
                        }
                        snprintf(name, sizeof(name), "%.63s", w);
                        state = NAMED;
                        break;
                case NAMED:
                        if (t != T_LBRACE) {
                                bimg_fail(err, BIMG_E_INVALID, "%s: line %u: expected '{' after "
                                          "'%s'", origin, lx->tok_line, name);
                                goto out;
                        }
                        sec = (struct section_state){ .line = lx->tok_line };
                        for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
                                if (strcmp(name, sections[i].name) == 0)
                                        sec.rule = &sections[i];
                        if (!sec.rule) {
                                bimg_fail(err, BIMG_E_INVALID, "%s: line %u: unknown section "
                                          "'%s' (redsocks knows base, redsocks, redudp, dnstc "
                                          "and dnsu2t)", origin, lx->tok_line, name);
                                goto out;
                        }
                        if (strcmp(name, "base") == 0 && n_base++ > 0) {
                                lex_fail(lx, "a second 'base' section; redsocks allows one");
                                goto out;
                        }
                        n_redsocks += strcmp(name, "redsocks") == 0;
                        state = IN_SECTION;
                        break;
                case IN_SECTION:
                        if (t == T_RBRACE) {
                                if (close_section(lx, &sec) < 0)
                                        goto out;
                                state = OUTSIDE;
                        } else if (t == T_WORD) {
                                snprintf(key, sizeof(key), "%.63s", w);
                                state = KEYED;
                        } else {
                                lex_fail(lx, t == T_LBRACE ? "a section inside a section" :
                                         t == T_SEMI ? "';' without a key and value" :
                                         "'=' without a key");
                                goto out;
                        }
                        break;
                case KEYED:
                        if (t != T_EQ) {
                                bimg_fail(err, BIMG_E_INVALID, "%s: line %u: expected '=' after "
                                          "'%s'", origin, lx->tok_line, key);
                                goto out;
                        }
                        state = ASSIGNING;
                        break;
                case ASSIGNING:
                        if (t != T_WORD) {
                                bimg_fail(err, BIMG_E_INVALID, "%s: line %u: '%s' has no value",
                                          origin, lx->tok_line, key);
                                goto out;
                        }
                        if (check_value(lx, &sec, key, w) < 0)
                                goto out;
                        value_line = lx->line;  /* a missing ';' shows on the next token */
                        state = VALUED;
                        break;
                case VALUED:
                        if (t != T_SEMI) {
                                bimg_fail(err, BIMG_E_INVALID, "%s: line %u: expected ';' after "
                                          "the value of '%s'", origin, value_line, key);
                                goto out;
                        }
                        state = IN_SECTION;
                        break;
                }
        }
        if (state == NAMED) {
                bimg_fail(err, BIMG_E_INVALID, "%s: '%s' at the end has no '{ ... }'", origin,
                          name);
        } else if (state != OUTSIDE) {
                bimg_fail(err, BIMG_E_INVALID, "%s: section '%s' opened at line %u is never "
                          "closed; add '}'", origin, sec.rule->name, sec.line);
        } else if (n_base == 0) {
                bimg_fail(err, BIMG_E_INVALID, "%s: no 'base' section; start from the "
                          "redsocks.conf.ignore sample", origin);
        } else if (n_redsocks == 0) {
                bimg_fail(err, BIMG_E_INVALID, "%s: no 'redsocks' section naming the proxy "
                          "(type, ip, port)", origin);
        } else {
                ret = 0;
        }
out:
        free(lx);
        return ret;
}
