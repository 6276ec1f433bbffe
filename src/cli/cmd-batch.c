/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img batch MANIFEST: one ready-to-flash image per device, for CI. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

struct batch_args {
        struct bimg_batch_opts opts;
        const char *manifest;
        const char *results;    /* NULL: beside the manifest */
        bool json, dry_run;
};

static int parse_count(const char *text, unsigned *ret)
{
        char *end;
        unsigned long v = strtoul(text, &end, 10);

        if (!*text || *end || v < 1 || v > 1024)
                return -1;
        *ret = (unsigned)v;
        return 0;
}

static int parse_shard(const char *text, struct bimg_batch_opts *o, struct bimg_error *err)
{
        unsigned i, n;
        char extra;

        if (sscanf(text, "%u/%u%c", &i, &n, &extra) != 2 || n < 1 || i < 1 || i > n)
                return cli_usage_error("batch", err, "--shard '%s': expected I/N with "
                                       "1 <= I <= N, e.g. 2/4", text);
        o->shard_index = i;
        o->shard_count = n;
        return 0;
}

static int parse(int argc, char **argv, struct batch_args *a, struct bimg_error *err)
{
        enum { OPT_SHARD = 256, OPT_KEEP_GOING, OPT_RESULTS, OPT_NO_CHECKSUM, OPT_JSON,
               OPT_DRY_RUN };
        static const struct option options[] = {
                { "jobs", required_argument, NULL, 'j' },
                { "shard", required_argument, NULL, OPT_SHARD },
                { "keep-going", no_argument, NULL, OPT_KEEP_GOING },
                { "results", required_argument, NULL, OPT_RESULTS },
                { "no-checksum", no_argument, NULL, OPT_NO_CHECKSUM },
                { "json", no_argument, NULL, OPT_JSON },
                { "dry-run", no_argument, NULL, OPT_DRY_RUN },
                CLI_COMMON_OPTIONS,
        };
        int opt;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":j:h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case 'j':
                        if (parse_count(optarg, &a->opts.jobs) < 0)
                                return cli_usage_error("batch", err, "-j '%s': expected a "
                                                       "number of workers, 1 to 1024", optarg);
                        break;
                case OPT_SHARD:
                        if (parse_shard(optarg, &a->opts, err) < 0)
                                return -1;
                        break;
                case OPT_KEEP_GOING: a->opts.keep_going = true; break;
                case OPT_RESULTS: a->results = optarg; break;
                case OPT_NO_CHECKSUM: a->opts.checksum = false; break;
                case OPT_JSON: a->json = true; break;
                case OPT_DRY_RUN: a->dry_run = true; break;
                case CLI_OPT_HELP:
                        cli_print_help("batch");
                        return 1;
                default:
                        return cli_bad_option("batch", opt, argv, err);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error("batch", err, optind == argc ? "no MANIFEST given"
                                                                     : "one MANIFEST only");
        a->manifest = argv[optind];
        return 0;
}

/* MANIFEST.results.json beside it (.shard-I-of-N before .json for a shard). */
static char *default_results(const struct batch_args *a)
{
        const char *m = a->manifest, *slash = strrchr(m, '/');
        const char *dot = strrchr(slash ? slash : m, '.');
        int stem = dot && dot != (slash ? slash + 1 : m) ? (int)(dot - m) : (int)strlen(m);
        char *path = NULL;

        if (a->opts.shard_count)
                return asprintf(&path, "%.*s.results.shard-%u-of-%u.json", stem, m,
                                a->opts.shard_index, a->opts.shard_count) < 0 ? NULL : path;
        return asprintf(&path, "%.*s.results.json", stem, m) < 0 ? NULL : path;
}

static const char *state_name(enum bimg_batch_state s)
{
        return s == BIMG_BATCH_OK ? "ok" : s == BIMG_BATCH_FAILED ? "failed" : "not made";
}

static json_t *device_json(const struct bimg_batch_device *d)
{
        json_t *generated = json_object();

        if (d->uuid_generated)
                json_object_set_new(generated, "uuid", out_str(d->uuid));
        return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:I, s:I, s:o}",
                         "index", (json_int_t)d->index, "origin", out_str(d->origin),
                         "device_type", out_str(d->device_type),
                         "hostname", d->hostname ? out_str(d->hostname) : json_null(),
                         "uuid", d->uuid ? out_str(d->uuid) : json_null(),
                         "generated", generated, "output", out_str(d->output),
                         "bmap", d->bmap && d->state == BIMG_BATCH_OK ? out_str(d->bmap)
                                                                      : json_null(),
                         "status", state_name(d->state),
                         "sha256", out_str_or_null(d->sha256),
                         "size", (json_int_t)d->size, "disk_bytes", (json_int_t)d->disk_bytes,
                         "error", d->state == BIMG_BATCH_FAILED ? out_str(d->error.message)
                                                                : json_null());
}

/* How many devices of this shard are in each state. */
static void count_states(const struct bimg_batch *b, size_t counts[3])
{
        counts[0] = counts[1] = counts[2] = 0;
        for (size_t i = 0; i < bimg_batch_count(b); i++)
                counts[bimg_batch_device(b, i)->state]++;
}

static json_t *results_json(const struct bimg_batch *b, const struct batch_args *a)
{
        size_t n = bimg_batch_count(b), counts[3];
        json_t *devices = json_array();

        count_states(b, counts);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(devices, device_json(bimg_batch_device(b, i)));
        return json_pack("{s:o, s:o, s:b, s:I, s:I, s:I, s:o}",
                         "manifest", out_str(bimg_batch_manifest_path(b)),
                         "shard", a->opts.shard_count
                                          ? json_pack("{s:i, s:i}", "index",
                                                      (int)a->opts.shard_index, "count",
                                                      (int)a->opts.shard_count)
                                          : json_null(),
                         "dry_run", a->dry_run,
                         "ok", (json_int_t)counts[BIMG_BATCH_OK],
                         "failed", (json_int_t)counts[BIMG_BATCH_FAILED],
                         "not_made", (json_int_t)counts[BIMG_BATCH_PENDING],
                         "devices", devices);
}

/* The results file appears whole or not at all. */
static int write_results(json_t *root, const char *path, struct bimg_error *err)
{
        char *temp = NULL;
        int r = 0;

        if (asprintf(&temp, "%s.tmp-%ld", path, (long)getpid()) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        if (json_dump_file(root, temp, JSON_INDENT(2) | JSON_ENSURE_ASCII) < 0 ||
            rename(temp, path) < 0) {
                unlink(temp);
                r = bimg_fail(err, BIMG_E_IO, "cannot write the results to '%s'", path);
        }
        free(temp);
        return r;
}

struct progress {
        bool json;
};

static void device_done(const struct bimg_batch_device *d, size_t done, size_t total,
                        void *data)
{
        const struct progress *p = data;

        if (p->json)
                return;
        if (d->state == BIMG_BATCH_OK)
                printf("ok      [%zu/%zu] %s\n", done, total, d->output);
        else
                printf("FAILED  [%zu/%zu] %s\n", done, total, d->error.message);
        fflush(stdout);
}

static int finish(const struct bimg_batch *b, const struct batch_args *a, int status,
                  double seconds, struct bimg_error *err)
{
        json_t *root = results_json(b, a);
        char *path = a->results ? strdup(a->results) : default_results(a);
        size_t counts[3], n = bimg_batch_count(b), ok, failed;
        int r;

        count_states(b, counts);
        ok = counts[BIMG_BATCH_OK];
        failed = counts[BIMG_BATCH_FAILED];
        if (!root || !path) {
                json_decref(root);
                free(path);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        /* the results keep the run's error message; it is reported after them */
        r = write_results(root, path, status < 0 ? &(struct bimg_error){ 0 } : err);
        if (a->json) {
                r = out_print_json(json_incref(root), status < 0 ? &(struct bimg_error){ 0 }
                                                                 : err) < 0 ? -1 : r;
        } else if (!a->dry_run) {
                printf("%zu of %zu images made in %.1f s (%.1f images/s); results in %s\n", ok,
                       n, seconds, seconds > 0 ? (double)ok / seconds : 0.0, path);
        } else {
                printf("%zu devices checked, nothing written; results in %s\n", n, path);
        }
        json_decref(root);
        free(path);
        if (status < 0 && failed > 1)
                bimg_error_prefix(err, "%zu of %zu devices failed; first", failed, n);
        return status < 0 ? -1 : r;
}

int cmd_batch(int argc, char **argv, struct bimg_error *err)
{
        struct batch_args a = { .opts = { .jobs = 1, .checksum = true } };
        struct progress p;
        struct bimg_batch *b = NULL;
        double start = cli_now();
        int r;

        r = parse(argc, argv, &a, err);
        if (r != 0)
                return r > 0 ? 0 : -1;
        p.json = a.json;
        if (bimg_batch_load(a.manifest, &a.opts, &b, err) < 0)
                return -1;
        /* an invalid manifest writes nothing, not even results */
        if (bimg_batch_validate(b, cli_warn, NULL, err) < 0) {
                bimg_batch_free(b);
                return -1;
        }
        /* workers drawing bars at once would garble them: a line per device instead */
        bimg_set_progress(NULL, NULL);
        r = a.dry_run ? 0 : bimg_batch_run(b, device_done, &p, err);
        r = finish(b, &a, r, cli_now() - start, err);
        bimg_batch_free(b);
        return r;
}
