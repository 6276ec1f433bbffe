/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img verify IMAGE [--deep] [--json] */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output.h"

#define VERIFY_SCHEMA_VERSION 1 /* bump when a field changes meaning or disappears */

static const char *result_word(const struct bimg_verify_report *rep)
{
        if (rep->counts[BIMG_CHECK_FAIL])
                return "FAILED";
        if (rep->deep_skipped)
                return "INCOMPLETE";
        return rep->counts[BIMG_CHECK_WARN] ? "ok, with warnings" : "ok";
}

static void print_text(const char *image, const struct bimg_verify_report *rep)
{
        int wname = 4, wsubject = 7;

        for (size_t i = 0; i < rep->n_checks; i++) {      /* columns as wide as needed */
                int n = (int)strlen(rep->checks[i].name), s = (int)strlen(rep->checks[i].subject);

                wname = n > wname ? n : wname;
                wsubject = s > wsubject ? (s > 40 ? 40 : s) : wsubject;
        }
        printf("Verifying %s\n\n", image);
        for (size_t i = 0; i < rep->n_checks; i++) {
                const struct bimg_check *c = &rep->checks[i];
                char status[16];

                snprintf(status, sizeof(status), "%s", bimg_check_status_name(c->status));
                for (char *p = status; *p; p++)
                        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
                printf("%-7s %-*s %-*s %s\n", status, wname, c->name, wsubject, c->subject,
                       c->message);
        }
        printf("\nResult: %s (%zu ok, %zu warning%s, %zu failed, %zu skipped)\n",
               result_word(rep), rep->counts[BIMG_CHECK_OK], rep->counts[BIMG_CHECK_WARN],
               rep->counts[BIMG_CHECK_WARN] == 1 ? "" : "s", rep->counts[BIMG_CHECK_FAIL],
               rep->counts[BIMG_CHECK_SKIPPED]);
}

static int print_json(const char *image, bool deep, const struct bimg_verify_report *rep,
                      struct bimg_error *err)
{
        json_t *checks = json_array();

        for (size_t i = 0; i < rep->n_checks; i++) {
                const struct bimg_check *c = &rep->checks[i];

                json_array_append_new(checks, json_pack("{s:o, s:o, s:s, s:o}",
                                                        "name", out_str(c->name),
                                                        "subject", out_str(c->subject),
                                                        "status",
                                                        bimg_check_status_name(c->status),
                                                        "message", out_str(c->message)));
        }
        return out_print_json(json_pack("{s:i, s:o, s:b, s:b, s:b, s:{s:I, s:I, s:I, s:I}, s:o}",
                                         "schema_version", VERIFY_SCHEMA_VERSION,
                                         "image", out_str(image), "deep", deep,
                                         "passed", rep->counts[BIMG_CHECK_FAIL] == 0,
                                         "deep_skipped", rep->deep_skipped,
                                         "counts",
                                         "ok", (json_int_t)rep->counts[BIMG_CHECK_OK],
                                         "warn", (json_int_t)rep->counts[BIMG_CHECK_WARN],
                                         "fail", (json_int_t)rep->counts[BIMG_CHECK_FAIL],
                                         "skipped", (json_int_t)rep->counts[BIMG_CHECK_SKIPPED],
                                         "checks", checks),
                              err);
}

/* Failed checks, named, for the one line on stderr. */
static int fail_verdict(const char *image, const struct bimg_verify_report *rep,
                        struct bimg_error *err)
{
        char names[200] = "";
        size_t len = 0;

        for (size_t i = 0; i < rep->n_checks; i++) {
                const char *name = rep->checks[i].name;

                if (rep->checks[i].status != BIMG_CHECK_FAIL || strstr(names, name))
                        continue;
                if (len + strlen(name) + 3 < sizeof(names))
                        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
                                                len ? ", " : "", name);
        }
        return bimg_fail(err, BIMG_E_INVALID, "'%s' failed verification: %zu check%s failed (%s)",
                         image, rep->counts[BIMG_CHECK_FAIL],
                         rep->counts[BIMG_CHECK_FAIL] == 1 ? "" : "s", names);
}

static const char *deep_reason(const struct bimg_verify_report *rep)
{
        for (size_t i = 0; i < rep->n_checks; i++)
                if (strcmp(rep->checks[i].name, "deep") == 0 &&
                    rep->checks[i].status == BIMG_CHECK_SKIPPED)
                        return rep->checks[i].message;
        return "libguestfs could not run";
}

int cmd_verify(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "deep", no_argument, NULL, 'd' },
                CLI_COMMON_OPTIONS,
        };
        struct bimg_verify_opts opts = { 0 };
        struct bimg_verify_report *rep = NULL;
        const char *image;
        bool json = false;
        int opt, i, ret = -1;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case 'j':
                        json = true;
                        break;
                case 'd':
                        opts.deep = true;
                        break;
                case CLI_OPT_HELP:
                        cli_print_help("verify");
                        return 0;
                default:
                        return cli_bad_option("verify", opt, argv, err);
                }
        }
        i = optind;
        if (cli_take_image("verify", argc, argv, &i, 0, &image, err) < 0)
                return -1;
        if (i != argc)
                return cli_usage_error("verify", err, "expected one IMAGE");
        if (bimg_verify(image, &opts, &rep, err) < 0)
                return -1;
        if (json)
                ret = print_json(image, opts.deep, rep, err);
        else {
                print_text(image, rep);
                ret = 0;
        }
        if (ret == 0 && rep->counts[BIMG_CHECK_FAIL])
                ret = fail_verdict(image, rep, err);
        else if (ret == 0 && rep->deep_skipped)
                ret = bimg_fail(err, BIMG_E_UNSUPPORTED, "--deep could not run, so '%s' was "
                                "not mounted by a kernel: %s", image, deep_reason(rep));
        bimg_verify_report_free(rep);
        return ret;
}
