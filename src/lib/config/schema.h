/* SPDX-License-Identifier: Apache-2.0 */
/* What every config.json key read by balenaOS may hold (spec 3.2, 3.5). */
#ifndef BIMG_SCHEMA_H
#define BIMG_SCHEMA_H

#include <jansson.h>

#include "balena-img.h"

enum schema_type {
        SCHEMA_STRING,
        SCHEMA_BOOL,
        SCHEMA_INT,             /* a JSON integer */
        SCHEMA_INT_TOLERANT,    /* an integer, or a string of digits (what some writers leave) */
        SCHEMA_SCALAR,          /* string, number or boolean: never an array or object */
        SCHEMA_STRING_TOLERANT, /* a string; an integer left by others is accepted */
        SCHEMA_OBJECT,
        SCHEMA_ARRAY,
};

enum schema_flags {
        SCHEMA_SECRET = 1,      /* never shown */
        SCHEMA_FLASHER = 2,     /* only read by flasher (installer) images */
        SCHEMA_IGNORED = 4,     /* no longer read by balenaOS: warn */
};

struct schema_key {
        const char *key;        /* dotted path from the root */
        enum schema_type type;
        unsigned flags;
        /* the format check beyond the type; NULL when the type says it all */
        int (*check)(const json_t *value, const char *key, struct bimg_error *err);
        const char *note;       /* for SCHEMA_IGNORED: what to use instead */
};

/* The value at a dotted path ("os.network.wifi"), or NULL. */
const json_t *schema_lookup(const json_t *root, const char *dotted);

/* The entry for a dotted key, or NULL for a key balenaOS does not read. */
const struct schema_key *schema_find(const char *dotted);

/* Check every known key present in root (unknown keys pass untouched); errors
 * start with origin ("config.json", or the name of a loose file). Keys
 * that only matter on flashers, or that the OS ignores, are warned about
 * through warn. The first failure is returned (BIMG_E_INVALID). */
int schema_validate(const json_t *root, const char *origin, bool is_flasher, bimg_warn_fn warn,
                    void *warn_data, struct bimg_error *err);

/* A value for --set KEY=VALUE: typed by the schema (a boolean key takes
 * true/false, an integer key a number, a string key the text as it is, and a
 * quoted JSON string too); other keys take a JSON literal, else the text as a
 * string. The result is not yet format-checked. */
int schema_value_from_text(const char *dotted, const char *text, json_t **ret,
                           struct bimg_error *err);

/* Format checks used by the configure options too. */
int schema_check_hostname(const char *s, const char *key, struct bimg_error *err);
int schema_check_country(const char *s, const char *key, struct bimg_error *err);

#endif
