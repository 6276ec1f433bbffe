/* SPDX-License-Identifier: Apache-2.0 */
/*
 * udev rules for os.udevRules (balenaos-spec.md 3.4). The OS writes each value
 * to /etc/udev/rules.d/NAME.rules with echo, splicing NAME into an eval'd shell
 * command, and deletes every other file there. What is checked here mirrors how
 * systemd-udevd reads a rules file (src/udev/udev-rules.c):
 *   - a physical line has its leading blanks removed; one starting with '#' is a
 *     comment (even in the middle of a continued rule);
 *   - a line ending in '\' continues on the next one; the joined rule must stay
 *     under 16384 bytes (UDEV_LINE_SIZE), or udevd skips it;
 *   - a rule is KEY[{ATTR}] OP "VALUE" pairs separated by commas; udevd drops a
 *     rule it cannot parse, with only a log line on the device to say so.
 * Stricter than udevd, so a rule works on every balenaOS since v2.20.0 (systemd
 * 232 onwards): every pair is followed by a comma or the end of the rule, no
 * trailing comma, no e"..." strings and no \" inside a value (both are later
 * udev additions: older udev ends a value at the first '"'), and a GOTO must have
 * its LABEL further down the same text. Keys named in
 * key_rules[] get udevd's operator and {ATTR} rules; other [A-Z_]+ keys pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "config/udev.h"

#define NAME_MAX_LEN 64
#define TEXT_MAX_BYTES (1024 * 1024)
#define RULE_MAX_BYTES 16383            /* udevd's UDEV_LINE_SIZE, less the NUL */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Rule files a balenaOS root filesystem ships in /usr/lib/udev/rules.d, without
 * ".rules". A user rule of the same name in /etc/udev/rules.d replaces the OS's
 * one entirely. Sources (names as installed):
 *   - meta-balena: every .rules file under its recipes-* folders, v2.20.0 to v8.0.2:
 *     00-teensy, 10-local-bt-hci-up, 10-zram, 11-dm, 49-teensy,
 *     60-resin-update-state, 65-resin-update-state, 77-mm-huawei-configuration,
 *     77-mm-u-blox-modeswitch, 79-wlan-power, 99-misc; and touchscreen, which
 *     poky's systemd recipe installs and meta-balena moves there;
 *   - systemd (udev): every .rules (or .rules.in) file in rules.d of systemd/systemd's
 *     history (a few may never have shipped in a release);
 *   - packages meta-balena builds: ModemManager (77-mm-*, 80-mm-candidate),
 *     NetworkManager (84-nm-drivers, 85-nm-unmanaged, 90-nm-thunderbolt), lvm2
 *     (10-dm, 11-dm-lvm, 13-dm-disk, 69-dm-lvm[-metad], 95-dm-notify), mdadm
 *     (01-, 63-, 64-, 69-md-*), usb-modeswitch-data (40-usb_modeswitch) and
 *     tpm2-tss (tpm-udev).
 * Sorted (LC_ALL=C) for the reader; searched linearly, so an entry added out of
 * order still counts.
 */
static const char *const os_rules[] = {
        "00-teensy", "01-md-raid-creating", "10-dm", "10-local-bt-hci-up", "10-zram", "11-dm",
        "11-dm-lvm", "13-dm-disk", "40-usb_modeswitch", "49-teensy", "50-udev-default",
        "53-storage-hardware", "56-fallback-scsi_id", "59-storage-content", "60-aspm",
        "60-autosuspend", "60-block", "60-camera", "60-ccid", "60-cdrom_id", "60-cryptsetup-id",
        "60-dmi-id", "60-drm", "60-evdev", "60-fido-id", "60-fingerprint", "60-gpiochip",
        "60-infiniband", "60-input-id", "60-net-dhcp", "60-persistent-alsa",
        "60-persistent-hidraw", "60-persistent-input", "60-persistent-media-controller",
        "60-persistent-media-ctl", "60-persistent-storage", "60-persistent-storage-mtd",
        "60-persistent-storage-tape", "60-persistent-u3v", "60-persistent-v4l",
        "60-resin-update-state", "60-sensor", "60-serial", "60-tpm2-id",
        "60-usb-device-integration", "60-usb-integration", "61-autosuspend-manual",
        "61-device-integration", "63-md-raid-arrays", "64-btrfs", "64-md-raid-assembly",
        "65-integration", "65-resin-update-state", "69-dm-lvm", "69-dm-lvm-metad",
        "69-md-clustered-confirm-device", "70-amd-pmf", "70-camera", "70-flipperzero",
        "70-joystick", "70-memory", "70-mouse", "70-power-switch", "70-touchpad", "70-uaccess",
        "71-seat", "73-seat-late", "75-net-description", "75-probe_mtd",
        "77-mm-broadmobi-port-types", "77-mm-cellient", "77-mm-cinterion-port-types",
        "77-mm-dell-port-types", "77-mm-dlink-port-types", "77-mm-ericsson-mbm",
        "77-mm-fibocom-port-types", "77-mm-foxconn-port-types", "77-mm-gosuncn-port-types",
        "77-mm-haier-port-types", "77-mm-huawei-configuration", "77-mm-huawei-net-port-types",
        "77-mm-linktop-port-types", "77-mm-longcheer-port-types", "77-mm-mtk-legacy-port-types",
        "77-mm-mtk-port-types", "77-mm-netprisma-port-types", "77-mm-nokia-port-types",
        "77-mm-pantech", "77-mm-pcmcia-device-blacklist", "77-mm-platform-serial-whitelist",
        "77-mm-qcom-soc", "77-mm-quectel-port-types", "77-mm-rolling-port-types", "77-mm-sierra",
        "77-mm-simtech-port-types", "77-mm-telit-port-types", "77-mm-tplink-port-types",
        "77-mm-u-blox-modeswitch", "77-mm-ublox-port-types", "77-mm-usb-device-blacklist",
        "77-mm-usb-serial-adapters-greylist", "77-mm-x22x-port-types", "77-mm-zte-port-types",
        "78-sound-card", "79-wlan-power", "80-drivers", "80-mm-candidate", "80-net-setup-link",
        "81-net-bridge", "81-net-dhcp", "82-net-auto-link-local", "84-nm-drivers",
        "85-nm-unmanaged", "90-image-dissect", "90-iocost", "90-nm-thunderbolt", "90-vconsole",
        "95-dm-notify", "99-misc", "99-systemd", "touchscreen", "tpm-udev",
};

static bool is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
}

static bool is_os_rule(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(os_rules); i++)
                if (strcmp(os_rules[i], name) == 0)
                        return true;
        return false;
}

int udev_check_name(const char *name, struct bimg_error *err)
{
        size_t len = strnlen(name, NAME_MAX_LEN + 1);

        if (len == 0)
                return bimg_fail(err, BIMG_E_INVALID, "udev rule name is empty");
        if (len > NAME_MAX_LEN)
                return bimg_fail(err, BIMG_E_INVALID, "udev rule name '%.*s...' is longer "
                                 "than %d characters", 32, name, NAME_MAX_LEN);
        for (size_t i = 0; i < len; i++) {
                if (is_name_char(name[i]))
                        continue;
                if (len > 6 && strcmp(name + len - 6, ".rules") == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "udev rule name '%s' must not "
                                         "end in '.rules' (the OS adds it)", name);
                return bimg_fail(err, BIMG_E_INVALID, "udev rule name '%s' may only hold "
                                 "letters, digits, '-' and '_' (the OS puts it in a shell "
                                 "command)", name);
        }
        if (is_os_rule(name))
                return bimg_fail(err, BIMG_E_INVALID, "udev rule name '%s' is taken by one of "
                                 "balenaOS's own rules, which it would replace; choose "
                                 "another name", name);
        return 0;
}

int udev_split_arg(const char *arg, char *ret_name, size_t name_size, const char **ret_file,
                   struct bimg_error *err)
{
        const char *eq = strchr(arg, '='), *file, *base, *name;
        size_t name_len;
        bool named = false;
        char tmp[NAME_MAX_LEN + 1];

        /* NAME=FILE whenever there is no '/' before the '=': a path such as
         * /tmp/a=b/x.rules has one (write ./a=b.rules for a file so named); the name
         * is then checked as a name, so "a.b=x.rules" is a bad name, not a file */
        if (eq) {
                named = true;
                for (const char *p = arg; p < eq; p++)
                        if (*p == '/')
                                named = false;
        }
        if (named) {
                name = arg;
                name_len = (size_t)(eq - arg);
                file = eq + 1;
                if (*file == '\0')
                        return bimg_fail(err, BIMG_E_INVALID, "'%s': no file after '='; "
                                         "write NAME=FILE", arg);
        } else {
                file = arg;
                base = strrchr(arg, '/');
                name = base ? base + 1 : arg;
                name_len = strlen(name);
                if (name_len == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "'%s' is not a rules file "
                                         "(give FILE or NAME=FILE)", arg);
                if (name_len > 6 && strcmp(name + name_len - 6, ".rules") == 0)
                        name_len -= 6;
                for (size_t i = 0; i < name_len; i++)
                        if (!is_name_char(name[i]))
                                return bimg_fail(err, BIMG_E_INVALID, "cannot take a udev "
                                                 "rule name from '%s'; name the file "
                                                 "NAME.rules with NAME of letters, digits, '-' "
                                                 "and '_', or write NAME=FILE", arg);
        }
        if (name_len > NAME_MAX_LEN)
                return bimg_fail(err, BIMG_E_INVALID, "udev rule name in '%s' is longer than "
                                 "%d characters", arg, NAME_MAX_LEN);
        memcpy(tmp, name, name_len);
        tmp[name_len] = '\0';
        if (udev_check_name(tmp, err) < 0)
                return -1;
        if (name_len + 1 > name_size)
                return bimg_fail(err, BIMG_E_FAILURE, "udev rule name buffer too small");
        memcpy(ret_name, tmp, name_len + 1);
        *ret_file = file;
        return 0;
}

/* ---- rule text ------------------------------------------------------------ */

enum {
        MATCH_ONLY = 1 << 0,    /* == and != only */
        ASSIGN_ONLY = 1 << 1,   /* no == or != */
        EQ_ONLY = 1 << 2,       /* = only */
        ATTR_REQUIRED = 1 << 3,
        ATTR_FORBIDDEN = 1 << 4,
};

/* How udevd (udev-rules.c, parse_token) treats the keys it knows; a breach makes
 * it drop the whole rule. */
static const struct key_rule {
        const char *name;
        unsigned flags;
} key_rules[] = {
        { "ACTION", MATCH_ONLY | ATTR_FORBIDDEN },
        { "ATTR", ATTR_REQUIRED },
        { "ATTRS", MATCH_ONLY | ATTR_REQUIRED },
        { "CONST", MATCH_ONLY | ATTR_REQUIRED },
        { "DEVPATH", MATCH_ONLY | ATTR_FORBIDDEN },
        { "DRIVER", MATCH_ONLY | ATTR_FORBIDDEN },
        { "DRIVERS", MATCH_ONLY | ATTR_FORBIDDEN },
        { "ENV", ATTR_REQUIRED },
        { "GOTO", EQ_ONLY | ATTR_FORBIDDEN },
        { "GROUP", ASSIGN_ONLY | ATTR_FORBIDDEN },
        { "IMPORT", ATTR_REQUIRED },
        { "KERNEL", MATCH_ONLY | ATTR_FORBIDDEN },
        { "KERNELS", MATCH_ONLY | ATTR_FORBIDDEN },
        { "LABEL", EQ_ONLY | ATTR_FORBIDDEN },
        { "MODE", ASSIGN_ONLY | ATTR_FORBIDDEN },
        { "NAME", ATTR_FORBIDDEN },
        { "OPTIONS", ASSIGN_ONLY | ATTR_FORBIDDEN },
        { "OWNER", ASSIGN_ONLY | ATTR_FORBIDDEN },
        { "PROGRAM", ATTR_FORBIDDEN },
        { "RESULT", MATCH_ONLY | ATTR_FORBIDDEN },
        { "RUN", ASSIGN_ONLY },
        { "SECLABEL", ASSIGN_ONLY | ATTR_REQUIRED },
        { "SUBSYSTEM", MATCH_ONLY | ATTR_FORBIDDEN },
        { "SUBSYSTEMS", MATCH_ONLY | ATTR_FORBIDDEN },
        { "SYMLINK", ATTR_FORBIDDEN },
        { "SYSCTL", ATTR_REQUIRED },
        { "TAG", ATTR_FORBIDDEN },
        { "TAGS", MATCH_ONLY | ATTR_FORBIDDEN },
        { "TEST", MATCH_ONLY },
};

static const struct key_rule *find_key_rule(const char *key, size_t len)
{
        for (size_t i = 0; i < ARRAY_SIZE(key_rules); i++)
                if (strlen(key_rules[i].name) == len && memcmp(key_rules[i].name, key, len) == 0)
                        return &key_rules[i];
        return NULL;
}

/* A GOTO target or a LABEL, kept to match them up once the whole text is read. */
struct mark {
        char *value;
        size_t line;
};

struct marks {
        struct mark *v;
        size_t n, allocated;
};

static int marks_add(struct marks *m, const char *value, size_t len, size_t line)
{
        char *copy;

        if (m->n == m->allocated) {
                size_t na = m->allocated ? m->allocated * 2 : 8;
                struct mark *nv = realloc(m->v, na * sizeof(*nv));

                if (!nv)
                        return -1;
                m->v = nv;
                m->allocated = na;
        }
        copy = strndup(value, len);
        if (!copy)
                return -1;
        m->v[m->n++] = (struct mark){ copy, line };
        return 0;
}

static void marks_free(struct marks *m)
{
        for (size_t i = 0; i < m->n; i++)
                free(m->v[i].value);
        free(m->v);
}

struct parse {
        const char *where;      /* origin */
        size_t line;            /* first physical line of the rule */
        struct marks gotos, labels;
        struct bimg_error *err;
};

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *p)
{
        while (is_blank(*p))
                p++;
        return p;
}

/* How to show the character at p in a message. */
static const char *show_char(const char *p, char buf[8])
{
        if (*p == '\0')
                return "the end of the rule";
        if ((unsigned char)*p < 0x80)
                snprintf(buf, 8, "'%c'", *p);
        else
                snprintf(buf, 8, "0x%02x", (unsigned char)*p);
        return buf;
}

static int check_pair(struct parse *ps, const char *key, size_t key_len, bool has_attr,
                      const char *op, size_t op_len)
{
        const struct key_rule *kr = find_key_rule(key, key_len);
        bool is_match = op_len == 2 && (op[0] == '=' || op[0] == '!');
        int k = (int)key_len;

        if (!kr)
                return 0;
        if ((kr->flags & ATTR_REQUIRED) && !has_attr)
                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: %.*s needs a name in braces, "
                                 "as in %.*s{name}", ps->where, ps->line, k, key, k, key);
        if ((kr->flags & ATTR_FORBIDDEN) && has_attr)
                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: %.*s takes no {...}",
                                 ps->where, ps->line, k, key);
        if ((kr->flags & MATCH_ONLY) && !is_match)
                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: %.*s can only be compared; "
                                 "use == or != (not %.*s)", ps->where, ps->line, k, key,
                                 (int)op_len, op);
        if ((kr->flags & ASSIGN_ONLY) && is_match)
                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: %.*s can only be assigned; "
                                 "use = or += (not %.*s)", ps->where, ps->line, k, key,
                                 (int)op_len, op);
        if ((kr->flags & EQ_ONLY) && !(op_len == 1 && op[0] == '='))
                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: %.*s takes = (not %.*s)",
                                 ps->where, ps->line, k, key, (int)op_len, op);
        return 0;
}

/* One joined rule line: KEY[{ATTR}] OP "VALUE" {, KEY[{ATTR}] OP "VALUE"}. */
static int parse_rule(struct parse *ps, const char *rule)
{
        const char *p = skip_blanks(rule);
        char c[8];

        for (;;) {
                const char *key = p, *op, *value;
                size_t key_len, op_len, value_len;
                bool has_attr = false;

                while ((*p >= 'A' && *p <= 'Z') || *p == '_')
                        p++;
                key_len = (size_t)(p - key);
                if (key_len == 0) {
                        if (*p >= 'a' && *p <= 'z')
                                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: udev keys "
                                                 "are upper case ('%.20s')", ps->where,
                                                 ps->line, p);
                        if (*p == ',')
                                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: a ',' with "
                                                 "no KEY==\"value\" before it", ps->where,
                                                 ps->line);
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: expected a KEY, "
                                         "found %s", ps->where, ps->line, show_char(p, c));
                }
                if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: '%.20s' is not a "
                                         "udev key (keys are [A-Z_]+)", ps->where, ps->line,
                                         key);
                if (*p == '{') {
                        const char *attr = ++p;

                        while (*p && *p != '}' && *p != '"' && *p != '{' && !is_blank(*p))
                                p++;
                        if (*p != '}')
                                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: %.*s{ is not "
                                                 "closed by '}'", ps->where, ps->line,
                                                 (int)key_len, key);
                        if (p == attr)
                                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: %.*s{} is "
                                                 "empty", ps->where, ps->line, (int)key_len,
                                                 key);
                        p++;
                        has_attr = true;
                }
                op = p = skip_blanks(p);
                if ((p[0] == '=' || p[0] == '!' || p[0] == '+' || p[0] == '-' || p[0] == ':') &&
                    p[1] == '=')
                        op_len = 2;
                else if (p[0] == '=' && (p[1] == '\0' || !strchr("~!<>+-:*", p[1])))
                        op_len = 1;
                else if (p[0] == '=')
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: after %.*s expected "
                                         "one of == != = += -= :=, found '%.2s'", ps->where,
                                         ps->line, (int)key_len, key, p);
                else
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: after %.*s expected "
                                         "one of == != = += -= :=, found %s", ps->where,
                                         ps->line, (int)key_len, key, show_char(p, c));
                if (check_pair(ps, key, key_len, has_attr, op, op_len) < 0)
                        return -1;
                p = skip_blanks(p + op_len);
                if (p[0] == 'e' && p[1] == '"')
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: %.*s: write the "
                                         "value as \"...\" (older balenaOS releases have a "
                                         "udev without e\"...\" strings)", ps->where, ps->line,
                                         (int)key_len, key);
                if (*p != '"')
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: the value of %.*s "
                                         "must be in double quotes", ps->where, ps->line,
                                         (int)key_len, key);
                value = ++p;
                while (*p && *p != '"') {
                        if (p[0] == '\\' && p[1] == '"')
                                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: \\\" in the "
                                                 "value of %.*s: the udev of older balenaOS "
                                                 "releases ends the value there", ps->where,
                                                 ps->line, (int)key_len, key);
                        p++;
                }
                if (*p != '"')
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: the value of %.*s "
                                         "has no closing '\"'", ps->where, ps->line,
                                         (int)key_len, key);
                value_len = (size_t)(p - value);
                p++;
                /* udevd drops these lines with a log message: the rule would do nothing */
                if (key_len == 4 && memcmp(key, "NAME", 4) == 0 && op_len == 1 &&
                    (value_len == 0 || (value_len == 2 && memcmp(value, "%k", 2) == 0)))
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: NAME=\"%.*s\" is "
                                         "ignored by udevd (it never renames an interface to "
                                         "nothing or to itself)", ps->where, ps->line,
                                         (int)value_len, value);
                if (key_len == 4 && memcmp(key, "GOTO", 4) == 0 &&
                    marks_add(&ps->gotos, value, value_len, ps->line) < 0)
                        return bimg_fail(ps->err, BIMG_E_FAILURE, "out of memory");
                if (key_len == 5 && memcmp(key, "LABEL", 5) == 0 &&
                    marks_add(&ps->labels, value, value_len, ps->line) < 0)
                        return bimg_fail(ps->err, BIMG_E_FAILURE, "out of memory");

                p = skip_blanks(p);
                if (*p == '\0')
                        return 0;
                if (*p != ',') {
                        if (*p == '\\')
                                return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: a '\\' "
                                                 "continues a rule only as the last "
                                                 "character of a line (remove the blanks "
                                                 "after it)", ps->where, ps->line);
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: expected ',' after "
                                         "%.*s%.*s\"%.*s\", found %s", ps->where, ps->line,
                                         (int)key_len, key, (int)op_len, op,
                                         (int)(value_len > 40 ? 40 : value_len), value,
                                         show_char(p, c));
                }
                p = skip_blanks(p + 1);
                if (*p == '\0')
                        return bimg_fail(ps->err, BIMG_E_INVALID, "%s:%zu: the rule ends with "
                                         "','; remove it", ps->where, ps->line);
        }
}

/* NUL, control characters other than tab and newline, broken UTF-8. */
static int check_bytes(const char *text, size_t len, const char *where, struct bimg_error *err)
{
        const unsigned char *u = (const unsigned char *)text;
        size_t line = 1;

        for (size_t i = 0; i < len;) {
                size_t n;

                if (u[i] == '\n') {
                        line++;
                        i++;
                        continue;
                }
                if (u[i] == '\0')
                        return bimg_fail(err, BIMG_E_INVALID, "%s:%zu: NUL byte; rules are "
                                         "text", where, line);
                if (u[i] == '\r')
                        return bimg_fail(err, BIMG_E_INVALID, "%s:%zu: carriage return (CRLF "
                                         "line ends); save the file with Unix line ends",
                                         where, line);
                if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
                        return bimg_fail(err, BIMG_E_INVALID, "%s:%zu: control character "
                                         "0x%02x", where, line, u[i]);
                n = utf8_char_len(u + i, len - i);
                if (n == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "%s:%zu: invalid UTF-8", where,
                                         line);
                i += n;
        }
        return 0;
}

int udev_check_rules(const char *text, size_t len, const char *origin, struct bimg_error *err)
{
        struct parse ps = { .where = origin ? origin : "udev rules", .err = err };
        size_t off = 0, lineno = 0, rule_len = 0, n_rules = 0;
        bool continued = false;
        char *rule = NULL;
        int r = -1;

        if (len > TEXT_MAX_BYTES)
                return bimg_fail(err, BIMG_E_INVALID, "%s: %zu bytes is too large for udev "
                                 "rules (at most %d)", ps.where, len, TEXT_MAX_BYTES);
        if (check_bytes(text, len, ps.where, err) < 0)
                return -1;
        rule = malloc(RULE_MAX_BYTES + 1);
        if (!rule) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        while (off < len) {
                const char *line = text + off, *nl = memchr(line, '\n', len - off);
                size_t line_len = nl ? (size_t)(nl - line) : len - off;

                off += line_len + (nl ? 1 : 0);
                lineno++;
                while (line_len > 0 && is_blank(*line))
                        line++, line_len--;
                if (line_len > 0 && line[0] == '#')
                        continue;
                if (!continued) {
                        ps.line = lineno;
                        rule_len = 0;
                }
                continued = line_len > 0 && line[line_len - 1] == '\\';
                if (continued)
                        line_len--;
                if (rule_len + line_len > RULE_MAX_BYTES) {
                        bimg_fail(err, BIMG_E_INVALID, "%s:%zu: the rule is longer than %d "
                                  "bytes; udev would skip it", ps.where, ps.line,
                                  RULE_MAX_BYTES);
                        goto out;
                }
                memcpy(rule + rule_len, line, line_len);
                rule_len += line_len;
                rule[rule_len] = '\0';
                if (continued)
                        continue;
                if (*skip_blanks(rule) == '\0')
                        continue;
                if (parse_rule(&ps, rule) < 0)
                        goto out;
                n_rules++;
        }
        if (continued) {
                bimg_fail(err, BIMG_E_INVALID, "%s:%zu: the last line ends with '\\' but no "
                          "line follows; udev would drop the rule", ps.where, lineno);
                goto out;
        }
        if (n_rules == 0) {
                bimg_fail(err, BIMG_E_INVALID, "%s: no rule (only blank lines and comments)",
                          ps.where);
                goto out;
        }
        /* udevd looks for a GOTO's LABEL only in the rules after it, in the same file */
        for (size_t i = 0; i < ps.gotos.n; i++) {
                bool found = false;

                for (size_t j = 0; j < ps.labels.n && !found; j++)
                        found = ps.labels.v[j].line > ps.gotos.v[i].line &&
                                strcmp(ps.labels.v[j].value, ps.gotos.v[i].value) == 0;
                if (!found) {
                        bimg_fail(err, BIMG_E_INVALID, "%s:%zu: GOTO=\"%.40s\" has no "
                                  "LABEL=\"%.40s\" after it", ps.where, ps.gotos.v[i].line,
                                  ps.gotos.v[i].value, ps.gotos.v[i].value);
                        goto out;
                }
        }
        r = 0;
out:
        marks_free(&ps.gotos);
        marks_free(&ps.labels);
        free(rule);
        return r;
}
