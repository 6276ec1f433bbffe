/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FAT through mtools. Every tool runs with the locked image as fd 3
 * ("-i /dev/fd/3@@OFFSET"), so it works on exactly the file we hold. Each spawn
 * costs more than everything else a command does, so they are few: the first
 * look-up lists the whole filesystem with one `mdir -/` (a boot partition holds a
 * few hundred entries), listings stay cached until a write changes that folder,
 * and small files asked for together are read with one mcopy (fat_prefetch), or,
 * with a change coming, from where minfo and mshowfat show them (fat-layout.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "base/path.h"
#include "base/spawn.h"
#include "fs/fat-layout.h"
#include "fs/fs.h"

struct fat_entry {
        char *name;             /* long name if any, else the 8.3 name as mdir shows it */
        char short_name[56];    /* "CONFIG~1.JSO": FAT matches either, ignoring case */
        struct bimg_stat st;
};

struct fat_dir {
        char *path;
        struct fat_entry *entries;
        size_t n;
};

/* A small file's bytes, read once: config.json is read by inspect and again by
 * configure, and a batch checks every device against the same base image. */
struct fat_file {
        char *path;
        char *data;
        size_t len;
};

#define FAT_FILE_CACHE_MAX (256 * 1024)

struct fat_state {
        struct fat_dir *dirs;   /* listings cached since the last write */
        size_t n_dirs;
        struct fat_file *files; /* contents cached since the last write */
        size_t n_files;
        bool listed_tree;       /* the one `mdir -/` was run (or tried) */
        bool whole_tree;        /* ...and every folder is still cached */
        bool has_free;
        uint64_t free_bytes;
        char drive[48];         /* "/dev/fd/3@@4194304" */
        struct fat_layout_run layout;   /* started by fat_expect_change(), until a write */
};

static void free_dir(struct fat_dir *d)
{
        for (size_t i = 0; i < d->n; i++)
                free(d->entries[i].name);
        free(d->entries);
        free(d->path);
}

static void drop_cache(struct fat_state *st)
{
        fat_layout_cancel(&st->layout);
        for (size_t i = 0; i < st->n_dirs; i++)
                free_dir(&st->dirs[i]);
        free(st->dirs);
        st->dirs = NULL;
        st->n_dirs = 0;
        st->has_free = false;
        st->whole_tree = false;
        for (size_t i = 0; i < st->n_files; i++) {
                free(st->files[i].path);
                free(st->files[i].data);
        }
        free(st->files);
        st->files = NULL;
        st->n_files = 0;
}

/* path is dir itself or inside it ("/" holds everything) */
static bool is_within(const char *path, const char *dir)
{
        size_t len = strlen(dir);

        if (strcmp(dir, "/") == 0)
                return true;
        return strncasecmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* After a write to path: its folder's listing, the listings and contents of path
 * and everything under it, and the free space are stale; the rest still holds. */
static void forget(struct fat_state *st, const char *path)
{
        char parent[PATH_MAX];
        size_t kept = 0;

        path_parent(path, parent, sizeof(parent));
        for (size_t i = 0; i < st->n_dirs; i++) {
                if (strcasecmp(st->dirs[i].path, parent) == 0 ||
                    is_within(st->dirs[i].path, path))
                        free_dir(&st->dirs[i]);
                else
                        st->dirs[kept++] = st->dirs[i];
        }
        st->n_dirs = kept;
        st->whole_tree = false;
        kept = 0;
        for (size_t i = 0; i < st->n_files; i++) {
                if (is_within(st->files[i].path, path)) {
                        free(st->files[i].path);
                        free(st->files[i].data);
                } else {
                        st->files[kept++] = st->files[i];
                }
        }
        st->n_files = kept;
        st->has_free = false;
        fat_layout_cancel(&st->layout); /* where files sit is changing */
}

static const struct fat_file *cached_file(const struct fat_state *st, const char *path)
{
        for (size_t i = 0; i < st->n_files; i++)
                if (strcmp(st->files[i].path, path) == 0)
                        return &st->files[i];
        return NULL;
}

/* Keep data (taken over) under path; on failure the file is just not cached. */
static void cache_file(struct fat_state *st, const char *path, char *data, size_t len)
{
        struct fat_file *f = realloc(st->files, (st->n_files + 1) * sizeof(*f));
        char *copy = strdup(path);

        if (!f || !copy) {
                if (f)
                        st->files = f;
                free(copy);
                free(data);
                return;
        }
        st->files = f;
        f[st->n_files++] = (struct fat_file){ copy, data, len };
}


/* DOS device names: mcopy exits 1 with no message for a file named so (any case,
 * without an extension; measured with mtools 4.0.32, which takes COM5 and LPT0) */
static bool is_device_name(const char *name, size_t len)
{
        static const char *const devices[] = { "CON", "NUL", "AUX", "PRN", "COM1", "COM2",
                                               "COM3", "COM4", "LPT1", "LPT2", "LPT3", "LPT4" };

        for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
                if (strlen(devices[i]) == len && strncasecmp(name, devices[i], len) == 0)
                        return true;
        return false;
}

static int check_fat_path(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        /* mtools expands * ? [ ] itself and reads \ as a separator; the rest are
         * characters a FAT long name cannot hold */
        for (const char *p = path; *p; p++)
                if (strchr("*?[]\\:\"<>|", *p) || (unsigned char)*p < 0x20)
                        return bimg_fail(err, BIMG_E_INVALID,
                                         "%s: '%s' has a character FAT names cannot hold",
                                         fs->what, path);
        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");

                if (is_device_name(p, len))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: '%s': '%.*s' is a DOS "
                                         "device name, which FAT tools refuse as a file name",
                                         fs->what, path, (int)len, p);
                p += len;
                p += *p == '/';
        }
        return 0;
}

/* "::/a/b" for mtools, with a trailing '/' when asked (lists a folder, never a file) */
static int target(const char *path, bool slash, char *out, size_t size,
                  struct bimg_error *err)
{
        bool root = strcmp(path, "/") == 0;
        int r = snprintf(out, size, "::%s%s", path, slash && !root ? "/" : "");

        if (r < 0 || (size_t)r >= size)
                return bimg_fail(err, BIMG_E_INVALID, "path '%s' is too long", path);
        return 0;
}

static int parse_size(const char *s, uint64_t *ret)
{
        uint64_t v = 0;
        bool any = false;

        for (; *s && *s != '\n'; s++) {
                if (*s == ' ')                  /* mdir groups digits: "41 822 208" */
                        continue;
                if (!isdigit((unsigned char)*s))
                        break;
                v = v * 10 + (uint64_t)(*s - '0');
                any = true;
        }
        if (!any)
                return -1;
        *ret = v;
        return 0;
}

static void trim_copy(char *dst, const char *src, size_t n)
{
        while (n > 0 && src[n - 1] == ' ')
                n--;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

/* Byte length of the first `chars` UTF-8 characters of s (at most len bytes). */
static size_t utf8_span(const char *s, size_t len, size_t chars)
{
        size_t i = 0;

        while (i < len && chars > 0) {
                i++;
                while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
                        i++;    /* continuation bytes belong to the same character */
                chars--;
        }
        return chars == 0 ? i : len + 1;
}

/* A run of digits at *p (before end) as an int, *p moved past it; -1 if none. */
static int read_int(const char **p, const char *end)
{
        int v = 0;
        const char *start = *p;

        for (; *p < end && isdigit((unsigned char)**p) && *p - start < 9; (*p)++)
                v = v * 10 + (**p - '0');
        return *p > start ? v : -1;
}

static void skip_blanks(const char **p, const char *end)
{
        while (*p < end && **p == ' ')
                (*p)++;
}

/* The character at *p is c: step past it. */
static bool take(const char **p, const char *end, char c)
{
        if (*p >= end || **p != c)
                return false;
        (*p)++;
        return true;
}

/* "YYYY-MM-DD  HH:MM" (the blanks before it skipped) into tm, *p moved past it.
 * By hand: three sscanf calls a line were a third of reading a listing. */
static int parse_when(const char **p, const char *end, struct tm *tm)
{
        int year, month, day, hour, minute;

        skip_blanks(p, end);
        if ((year = read_int(p, end)) < 0 || !take(p, end, '-') ||
            (month = read_int(p, end)) < 0 || !take(p, end, '-') ||
            (day = read_int(p, end)) < 0 || !take(p, end, ' '))
                return -1;
        skip_blanks(p, end);
        if ((hour = read_int(p, end)) < 0 || !take(p, end, ':') ||
            (minute = read_int(p, end)) < 0)
                return -1;
        *tm = (struct tm){ .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day,
                           .tm_hour = hour, .tm_min = minute };
        return 0;
}

/* One mdir entry line: "NAME     EXT   SIZE|<DIR> YYYY-MM-DD  HH:MM  [long name]".
 * The 8.3 columns are padded by characters, and a short name can hold
 * non-ASCII ones ("CAFÉCR~1"), so they are measured in characters. */
static int parse_entry(const char *line, size_t len, struct fat_entry *ret)
{
        char base[40], ext[16], *name;
        size_t base_end = utf8_span(line, len, 8), ext_end;
        const char *p, *end = line + len;
        struct tm tm = { 0 };
        bool is_dir = false;
        uint64_t size = 0;

        if (base_end >= len || base_end >= sizeof(base) || line[base_end] != ' ')
                return -1;
        ext_end = base_end + 1 + utf8_span(line + base_end + 1, len - base_end - 1, 3);
        if (ext_end > len || ext_end - base_end - 1 >= sizeof(ext))
                return -1;
        trim_copy(base, line, base_end);
        trim_copy(ext, line + base_end + 1, ext_end - base_end - 1);
        p = line + ext_end;
        while (p < end && *p == ' ')
                p++;
        if (end - p >= 5 && memcmp(p, "<DIR>", 5) == 0) {
                is_dir = true;
                p += 5;
        } else {
                for (; p < end && isdigit((unsigned char)*p); p++)
                        size = size * 10 + (uint64_t)(*p - '0');
        }
        if (parse_when(&p, end, &tm) < 0)
                return -1;
        snprintf(ret->short_name, sizeof(ret->short_name), "%s%s%s", base, ext[0] ? "." : "",
                 ext);
        if (end - p > 2 && p[0] == ' ' && p[1] == ' ')
                name = strndup(p + 2, (size_t)(end - p - 2));
        else
                name = strdup(ret->short_name);
        if (!name)
                return -2;
        ret->name = name;
        ret->st = (struct bimg_stat){
                .is_dir = is_dir,
                .size = is_dir ? 0 : size,
                .mtime = (int64_t)timegm(&tm),
                .mode = is_dir ? 0040755 : 0100644,
        };
        return 0;
}

static int parse_listing(struct fat_state *st, const char *out, struct fat_dir *dir,
                         struct bimg_error *err)
{
        for (const char *line = out; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                struct fat_entry e = { 0 };
                int r;

                if (len > 0 && line[len - 1] == '\r')
                        len--;
                if (memmem(line, len, "bytes free", 10)) {       /* in this line only */
                        if (parse_size(line, &st->free_bytes) == 0)
                                st->has_free = true;
                } else if (len > 0 && line[0] != ' ' && strncmp(line, "Directory for ", 14) != 0) {
                        r = parse_entry(line, len, &e);
                        if (r == -2)
                                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                        if (r == 0 && strchr(e.name, '/')) {    /* a crafted long name */
                                bimg_fail(err, BIMG_E_UNSUPPORTED, "'%s' holds an entry named "
                                          "'%s', which is not a file name; the filesystem "
                                          "is damaged", dir->path, e.name);
                                free(e.name);
                                return -1;
                        }
                        if (r == 0 && strcmp(e.name, ".") != 0 && strcmp(e.name, "..") != 0) {
                                struct fat_entry *grown = realloc(dir->entries,
                                                                  (dir->n + 1) * sizeof(e));
                                if (!grown) {
                                        free(e.name);
                                        return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                                }
                                dir->entries = grown;
                                dir->entries[dir->n++] = e;
                        } else {
                                free(e.name);
                        }
                }
                line += len;
                while (*line == '\r' || *line == '\n')
                        line++;
        }
        return 0;
}

/* Run an mtools program on this partition (stdout to out_fd, or into *ret_out when
 * ret_out is given). A tool that did not run or was killed fails naming the
 * partition; one stopped at spawn.c's CPU limit has looped on a damaged FAT. */
static int run_tool(struct bimg_fs *fs, const char *const argv[], int out_fd, char **ret_out,
                    size_t *ret_len, struct bimg_run_result *res, struct bimg_error *err)
{
        struct bimg_error tool = { 0 };
        int r = ret_out ? bimg_run_capture(argv, fs->image_fd, ret_out, ret_len, res, &tool)
                        : bimg_run(argv, fs->image_fd, out_fd, res, &tool);

        if (r == 0)
                return 0;
        if (res->cpu_limit_hit)
                return bimg_fail(err, tool.status, "%s: %s; the FAT filesystem is damaged (a "
                                 "cluster chain that loops?): check it with fsck.fat -n",
                                 fs->what, tool.message);
        return bimg_fail(err, tool.status, "%s: %s", fs->what, tool.message);
}

static bool tool_said_not_found(const struct bimg_run_result *res)
{
        return strstr(res->stderr_text, "not found") || strstr(res->stderr_text, "no match");
}

static int stat_entry(struct bimg_fs *fs, const char *path, const struct fat_entry **ret,
                      struct bimg_error *err);

/* The entry of d called name, by its long or its 8.3 name, ignoring case as FAT
 * does; NULL if none. */
static const struct fat_entry *find_entry(const struct fat_dir *d, const char *name)
{
        for (size_t i = 0; i < d->n; i++)
                if (strcasecmp(d->entries[i].name, name) == 0 ||
                    strcasecmp(d->entries[i].short_name, name) == 0)
                        return &d->entries[i];
        return NULL;
}

static struct fat_dir *cached_dir(struct fat_state *st, const char *dir)
{
        for (size_t i = 0; i < st->n_dirs; i++)
                if (strcasecmp(st->dirs[i].path, dir) == 0)
                        return &st->dirs[i];
        return NULL;
}

/* Keep d (taken over); -1 when out of memory (d is freed). */
static int add_dir(struct fat_state *st, struct fat_dir *d)
{
        struct fat_dir *grown = realloc(st->dirs, (st->n_dirs + 1) * sizeof(*grown));

        if (!grown) {
                free_dir(d);
                return -1;
        }
        st->dirs = grown;
        st->dirs[st->n_dirs++] = *d;
        return 0;
}

/* `mdir -/` output: one "Directory for ::/path" block per folder. Every folder's
 * listing is cached, or none (then each is listed when asked for). */
static void parse_tree(struct fat_state *st, char *out)
{
        static const char header[] = "Directory for ::";
        size_t first = st->n_dirs;
        char *block = strstr(out, header);
        bool ok = block != NULL;

        while (ok && block) {
                char *path = block + strlen(header), *eol = strchr(path, '\n');
                char *next = eol ? strstr(eol, header) : NULL, saved = 0;
                struct fat_dir d = { 0 };
                struct bimg_error ignored = { 0 };
                size_t len = eol ? (size_t)(eol - path) : strlen(path);

                while (len > 0 && (path[len - 1] == '\r' || path[len - 1] == ' '))
                        len--;
                d.path = strndup(path, len);
                ok = d.path && d.path[0] == '/' && !cached_dir(st, d.path);
                if (next) {                     /* parse this block alone */
                        saved = *next;
                        *next = '\0';
                }
                ok = ok && parse_listing(st, eol ? eol : path + len, &d, &ignored) == 0;
                if (next)
                        *next = saved;
                if (!ok)
                        free_dir(&d);
                else
                        ok = add_dir(st, &d) == 0;
                block = next;
        }
        if (!ok) {
                for (size_t i = first; i < st->n_dirs; i++)
                        free_dir(&st->dirs[i]);
                st->n_dirs = first;
                st->has_free = false;
        }
        st->whole_tree = ok && first == 0;
}

/* The first look-up lists every folder at once; a failure here is not an error:
 * folders are then listed one by one, and their own errors reported. In two
 * halves, so another tool can start beside it; *job is unset when it did not
 * start. */
static bool start_tree_listing(struct bimg_fs *fs, struct spawn_job *job)
{
        struct fat_state *st = fs->priv;
        struct bimg_error ignored = { 0 };
        const char *argv[] = { MDIR_PATH, "-/", "-a", "-i", st->drive, "::/", NULL };

        st->listed_tree = true;
        return spawn_start_captured(argv, fs->image_fd, 0, job, &ignored) == 0;
}

static void fat_expect_change(struct bimg_fs *fs);
static bool read_by_layout(struct bimg_fs *fs, const char *path, const struct fat_entry *e,
                           char **ret_data, size_t *ret_len);

/* minfo started: fat_expect_change() was called */
static bool change_announced(const struct fat_state *st)
{
        return st->layout.info.running || st->layout.info.done;
}

static void finish_tree_listing(struct bimg_fs *fs, struct spawn_job *job)
{
        struct bimg_run_result res;
        struct bimg_error ignored = { 0 };
        char *out = NULL;
        size_t len;

        if (spawn_finish_captured(job, SIZE_MAX, &out, &len, &res, &ignored) == 0 &&
            res.exit_status == 0)
                parse_tree(fs->priv, out);
        free(out);
        /* a change was announced before the listing */
        if (change_announced(fs->priv))
                fat_expect_change(fs);
}

static void list_tree(struct bimg_fs *fs)
{
        struct spawn_job job;

        if (start_tree_listing(fs, &job))
                finish_tree_listing(fs, &job);
}

/* The cached listing of dir, running mdir on a miss. BIMG_E_NOT_FOUND when dir is
 * missing, BIMG_E_INVALID when it is a file. */
static int get_dir(struct bimg_fs *fs, const char *dir, const struct fat_dir **ret,
                   struct bimg_error *err)
{
        struct fat_state *st = fs->priv;
        struct fat_dir d = { 0 }, *hit;
        struct bimg_run_result res;
        char tgt[PATH_MAX + 8], parent[PATH_MAX], *out = NULL;
        size_t len;

        if (!st->listed_tree)
                list_tree(fs);
        hit = cached_dir(st, dir);
        if (hit) {
                *ret = hit;
                return 0;
        }
        /* the parent's listing says whether dir exists: no mdir needed to fail */
        path_parent(dir, parent, sizeof(parent));
        if (strcmp(dir, "/") != 0 && (hit = cached_dir(st, parent))) {
                const struct fat_entry *e = find_entry(hit, path_basename(dir));

                if (!e)
                        return bimg_fail(err, BIMG_E_NOT_FOUND, "%s: '%s' does not exist",
                                         fs->what, dir);
                if (!e->st.is_dir)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is not a folder",
                                         fs->what, dir);
        }
        if (target(dir, true, tgt, sizeof(tgt), err) < 0)
                return -1;
        const char *argv[] = { MDIR_PATH, "-a", "-i", st->drive, tgt, NULL };
        if (run_tool(fs, argv, -1, &out, &len, &res, err) < 0)
                return -1;
        if (res.exit_status != 0) {
                free(out);
                if (tool_said_not_found(&res)) {
                        const struct fat_entry *e;

                        /* a trailing '/' on a file is "not found" too: tell them apart */
                        if (strcmp(dir, "/") != 0 && stat_entry(fs, dir, &e, err) == 0)
                                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is not a folder",
                                                 fs->what, dir);
                        return bimg_fail(err, BIMG_E_NOT_FOUND, "%s: '%s' does not exist",
                                         fs->what, dir);
                }
                return bimg_fail(err, BIMG_E_IO, "%s: cannot list '%s': %s", fs->what, dir,
                                 res.stderr_text);
        }
        d.path = strdup(dir);
        if (!d.path || parse_listing(st, out, &d, err) < 0) {
                free(out);
                free_dir(&d);
                if (err->status == BIMG_E_UNSUPPORTED)  /* a damaged listing */
                        bimg_error_prefix(err, "%s", fs->what);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        free(out);
        if (add_dir(st, &d) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        *ret = &st->dirs[st->n_dirs - 1];
        return 0;
}

static int stat_entry(struct bimg_fs *fs, const char *path, const struct fat_entry **ret,
                      struct bimg_error *err)
{
        char parent[PATH_MAX];
        const struct fat_entry *e;
        const struct fat_dir *d;

        path_parent(path, parent, sizeof(parent));
        if (get_dir(fs, parent, &d, err) < 0)
                return -1;
        e = find_entry(d, path_basename(path));
        if (!e)
                return bimg_fail(err, BIMG_E_NOT_FOUND, "%s: '%s' does not exist", fs->what,
                                 path);
        *ret = e;
        return 0;
}

/* 1 if path exists (*ret set), 0 if it does not, -1 on any other failure. */
static int lookup(struct bimg_fs *fs, const char *path, const struct fat_entry **ret,
                  struct bimg_error *err)
{
        struct bimg_error probe = { 0 };

        if (stat_entry(fs, path, ret, &probe) == 0)
                return 1;
        if (probe.status == BIMG_E_NOT_FOUND)
                return 0;
        return bimg_fail(err, probe.status, "%s", probe.message);
}

static int fat_open(struct bimg_fs *fs, struct bimg_error *err)
{
        struct fat_state *st = calloc(1, sizeof(*st));

        if (!st)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        snprintf(st->drive, sizeof(st->drive), "/dev/fd/3@@%" PRIu64, fs->offset);
        fs->priv = st;
        return 0;
}

static void fat_close(struct bimg_fs *fs)
{
        struct fat_state *st = fs->priv;

        if (!st)
                return;
        drop_cache(st);
        free(st);
        fs->priv = NULL;
}

static void fat_take_cache(struct bimg_fs *copy, struct bimg_fs *orig)
{
        struct fat_state *to = copy->priv, *from = orig->priv;

        drop_cache(to);
        to->dirs = from->dirs;
        to->n_dirs = from->n_dirs;
        to->files = from->files;
        to->n_files = from->n_files;
        to->listed_tree = from->listed_tree;
        to->whole_tree = from->whole_tree;
        to->has_free = from->has_free;
        to->free_bytes = from->free_bytes;
        from->dirs = NULL;
        from->n_dirs = 0;
        from->files = NULL;
        from->n_files = 0;
        from->has_free = false;
        from->whole_tree = false;
}

static int fat_list(struct bimg_fs *fs, const char *dir, bimg_dirent_fn fn, void *data,
                    struct bimg_error *err)
{
        const struct fat_dir *d;
        struct fat_entry *copy;
        size_t n;
        int ret = 0;

        if (check_fat_path(fs, dir, err) < 0 || get_dir(fs, dir, &d, err) < 0)
                return -1;
        /* fn may look at other folders, which grows (moves) the cache, or write,
         * which empties it: call it over a private copy */
        n = d->n;
        copy = calloc(n ? n : 1, sizeof(*copy));
        if (!copy)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        for (size_t i = 0; i < n; i++) {
                copy[i] = d->entries[i];
                copy[i].name = strdup(d->entries[i].name);
                if (!copy[i].name)
                        ret = bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        for (size_t i = 0; i < n && ret == 0; i++)
                if (fn(copy[i].name, &copy[i].st, data) != 0)
                        break;
        for (size_t i = 0; i < n; i++)
                free(copy[i].name);
        free(copy);
        return ret;
}

static int fat_stat(struct bimg_fs *fs, const char *path, struct bimg_stat *ret_st,
                    struct bimg_error *err)
{
        const struct fat_entry *e;

        if (strcmp(path, "/") == 0) {
                *ret_st = (struct bimg_stat){ .is_dir = true, .mode = 0040755 };
                return 0;
        }
        if (check_fat_path(fs, path, err) < 0 || stat_entry(fs, path, &e, err) < 0)
                return -1;
        *ret_st = e->st;
        return 0;
}

static int copy_out(const struct bimg_fs *fs, const char *path, int fd, const char *data,
                    size_t len, struct bimg_error *err)
{
        int r = file_write_all(fd, data, len);

        return r < 0 ? bimg_fail_errno(err, BIMG_E_IO, -r, "%s: cannot copy '%s'", fs->what, path)
                     : 0;
}

static int fat_read_to_fd(struct bimg_fs *fs, const char *path, int fd, struct bimg_error *err)
{
        struct fat_state *st = fs->priv;
        struct bimg_run_result res;
        const struct fat_entry *e;
        char tgt[PATH_MAX + 8];

        if (check_fat_path(fs, path, err) < 0)
                return -1;
        if (strcmp(path, "/") == 0 || (stat_entry(fs, path, &e, err) == 0 && e->st.is_dir))
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is a folder", fs->what, path);
        if (err->status != BIMG_OK || target(path, false, tgt, sizeof(tgt), err) < 0)
                return -1;      /* stat_entry failed: missing, or mdir could not run */
        const struct fat_file *f = cached_file(st, path);
        if (f)
                return copy_out(fs, path, fd, f->data, f->len, err);
        const char *argv[] = { MTYPE_PATH, "-i", st->drive, tgt, NULL };
        if (e->st.size > FAT_FILE_CACHE_MAX) {  /* streamed, not kept */
                if (run_tool(fs, argv, fd, NULL, NULL, &res, err) < 0)
                        return -1;
        } else {
                char *data = NULL;
                size_t len = 0;

                if (read_by_layout(fs, path, e, &data, &len)) {
                        int r = copy_out(fs, path, fd, data, len, err);

                        cache_file(st, path, data, len);
                        return r;
                }
                if (run_tool(fs, argv, -1, &data, &len, &res, err) < 0)
                        return -1;
                if (res.exit_status == 0) {
                        int r = copy_out(fs, path, fd, data, len, err);

                        cache_file(st, path, data, len);
                        return r;
                }
                free(data);
        }
        if (res.exit_status != 0)
                return bimg_fail(err, BIMG_E_IO, "%s: cannot read '%s': %s", fs->what, path,
                                 res.stderr_text);
        return 0;
}

/* Before any listing, a file read on its own (config get) is read with one
 * mtype, its output capped by RLIMIT_FSIZE just past the smaller of max_size and
 * the cache's limit: a listing would cost a second tool run. Anything but a
 * clean read within that leaves it to the listing way, which also words the
 * errors. */
static int fat_read_small(struct bimg_fs *fs, const char *path, size_t max_size,
                          char **ret_data, size_t *ret_size)
{
        struct fat_state *st = fs->priv;
        struct bimg_error ignored = { 0 };
        struct bimg_run_result res;
        struct spawn_job job;
        char tgt[PATH_MAX + 8], *data = NULL;
        size_t len = 0, cap = max_size < FAT_FILE_CACHE_MAX ? max_size : FAT_FILE_CACHE_MAX;
        int r;

        if (st->listed_tree || cached_file(st, path) || strcmp(path, "/") == 0 ||
            check_fat_path(fs, path, &ignored) < 0 ||
            target(path, false, tgt, sizeof(tgt), &ignored) < 0)
                return 0;
        const char *argv[] = { MTYPE_PATH, "-i", st->drive, tgt, NULL };
        r = spawn_start_captured(argv, fs->image_fd, cap + 1, &job, &ignored);
        if (r == 0)
                r = spawn_finish_captured(&job, cap, &data, &len, &res, &ignored);
        /* mtype of a folder prints nothing and succeeds: nothing is left to the
         * listing, which tells an empty file from a folder */
        if (r < 0 || res.exit_status != 0 || !data || len == 0) {
                free(data);
                return 0;
        }
        *ret_data = data;
        *ret_size = len;
        return 1;
}

/* Run a tool that changes path; what was cached of path and its folder is stale
 * afterwards, whatever happened. */
static int run_write(struct bimg_fs *fs, const char *const argv[], const char *what_done,
                     const char *path, struct bimg_error *err)
{
        struct fat_state *st = fs->priv;
        struct bimg_run_result res;
        int r = run_tool(fs, argv, -1, NULL, NULL, &res, err);

        forget(st, path);
        if (r < 0)
                return -1;
        if (res.exit_status != 0 && !res.stderr_text[0])        /* mtools said nothing */
                return bimg_fail(err, BIMG_E_IO, "%s: cannot %s '%s': %s exited with status "
                                 "%d and no message", fs->what, what_done, path,
                                 path_basename(argv[0]), res.exit_status);
        if (res.exit_status != 0)
                return bimg_fail(err, BIMG_E_IO, "%s: cannot %s '%s': %s", fs->what, what_done,
                                 path, res.stderr_text);
        return 0;
}

/* The parent must be an existing folder: mtools' own messages for that are cryptic. */
static int check_parent(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        char parent[PATH_MAX];
        const struct fat_dir *d;

        path_parent(path, parent, sizeof(parent));
        return get_dir(fs, parent, &d, err);
}

/* The checks before path is written from a host file: a name FAT can hold, in an
 * existing folder, and not a folder itself. */
static int check_put(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        const struct fat_entry *e;
        int r;

        if (check_fat_path(fs, path, err) < 0 || check_parent(fs, path, err) < 0)
                return -1;
        if (strcmp(path, "/") == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '/' is a folder", fs->what);
        r = lookup(fs, path, &e, err);
        if (r < 0)
                return -1;
        if (r == 1 && e->st.is_dir)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is a folder", fs->what, path);
        return 0;
}

/* mcopy's options for writes: -o replaces without asking; -m keeps the host
 * file's mtime, so writing the same file twice gives the same bytes, unless
 * SOURCE_DATE_EPOCH dates every write (then a harmless repeat of -n). */
static const char *mtime_option(void)
{
        return spawn_fixed_time(NULL) ? "-n" : "-m";
}

static int fat_write_from_file(struct bimg_fs *fs, const char *host_path, const char *path,
                               struct bimg_error *err)
{
        struct fat_state *st = fs->priv;
        char tgt[PATH_MAX + 8];

        if (check_put(fs, path, err) < 0 || target(path, false, tgt, sizeof(tgt), err) < 0)
                return -1;
        /* host_path is absolute ("-" would be stdin) */
        const char *argv[] = { MCOPY_PATH, "-n", "-o", mtime_option(), "-i", st->drive,
                               host_path, tgt, NULL };
        return run_write(fs, argv, "write", path, err);
}

/* ---- several files with one mcopy ---------------------------------------- */

#define ROUND_MAX 32

/* The first component of an absolute path: "splash" of "/splash/x.png". */
static size_t top_len(const char *path)
{
        return strcspn(path + 1, "/");
}

/* A round is written as one tree with `mcopy -s`: its top-level entries are
 * named on the command line, in order, but mcopy walks each folder of the tree
 * in the host's order; with one file at most under each top-level name (and no
 * name twice) nothing depends on that order. */
static bool fits_round(const struct fs_put *round, size_t n, const struct fs_put *p)
{
        size_t len = top_len(p->path);

        for (size_t i = 0; i < n; i++)
                if (top_len(round[i].path) == len &&
                    strncasecmp(round[i].path + 1, p->path + 1, len) == 0)
                        return false;
        return n < ROUND_MAX;
}

/* host at root/path, as a symbolic link (mcopy follows it, and -m takes the
 * mtime of the file it names): no copy of the data. The folders above it are
 * made as needed. */
static int place(const char *root, const char *host, const char *path)
{
        char dst[PATH_MAX * 2];

        for (const char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
                snprintf(dst, sizeof(dst), "%s%.*s", root, (int)(p - path), path);
                if (mkdir(dst, 0700) < 0 && errno != EEXIST)
                        return -errno;
        }
        snprintf(dst, sizeof(dst), "%s%s", root, path);
        return symlink(host, dst) < 0 ? -errno : 0;
}

/* Remove root and the tree under it (folders, files and links only: what
 * place() or an mcopy into it made). */
static void remove_tree(const char *root)
{
        DIR *d = opendir(root);
        struct dirent *e;
        char sub[PATH_MAX];

        while (d && (e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                snprintf(sub, sizeof(sub), "%s/%s", root, e->d_name);
                if (unlink(sub) < 0 && errno == EISDIR)
                        remove_tree(sub);
        }
        if (d)
                closedir(d);
        rmdir(root);
}

static int write_round(struct bimg_fs *fs, const struct fs_put *puts, size_t n,
                       struct bimg_error *err)
{
        struct fat_state *st = fs->priv;
        const char *argv[ROUND_MAX + 10];
        char root[PATH_MAX], (*tops)[PATH_MAX * 2];
        struct bimg_run_result res;
        size_t a = 0;
        int r = 0;

        if (n == 1)
                return fat_write_from_file(fs, puts[0].host_path, puts[0].path, err);
        tops = calloc(n, sizeof(*tops));
        if (!tops)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        snprintf(root, sizeof(root), "%s/balena-img-XXXXXX", file_scratch_dir());
        if (!mkdtemp(root)) {
                free(tops);
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot create a temporary "
                                       "folder in '%s'", file_scratch_dir());
        }
        argv[a++] = MCOPY_PATH;
        argv[a++] = "-s";
        argv[a++] = "-n";
        argv[a++] = "-o";
        argv[a++] = mtime_option();
        argv[a++] = "-i";
        argv[a++] = st->drive;
        for (size_t i = 0; i < n && r == 0; i++) {
                r = place(root, puts[i].host_path, puts[i].path);
                if (r < 0)
                        bimg_fail_errno(err, BIMG_E_IO, -r, "cannot stage '%s' for writing",
                                        puts[i].host_path);
                snprintf(tops[i], sizeof(tops[i]), "%s/%.*s", root, (int)top_len(puts[i].path),
                         puts[i].path + 1);
                argv[a++] = tops[i];
        }
        argv[a++] = "::/";
        argv[a] = NULL;
        if (r == 0) {
                r = run_tool(fs, argv, -1, NULL, NULL, &res, err);
                if (r == 0 && res.exit_status != 0)
                        r = bimg_fail(err, BIMG_E_IO, "%s: cannot write '%s' and %zu more: %s",
                                      fs->what, puts[0].path, n - 1, res.stderr_text[0]
                                      ? res.stderr_text : "mcopy exited with no message");
        }
        for (size_t i = 0; i < n; i++)
                forget(st, puts[i].path);
        remove_tree(root);
        free(tops);
        return r < 0 ? -1 : 0;
}

/* Every file is checked first, then written in as few mcopy runs as the rule of
 * fits_round() allows (one for configure's config.json, profile and splash). */
static int fat_write_files(struct bimg_fs *fs, const struct fs_put *puts, size_t n,
                           struct bimg_error *err)
{
        for (size_t i = 0; i < n; i++)
                if (check_put(fs, puts[i].path, err) < 0)
                        return -1;
        for (size_t start = 0, end; start < n; start = end) {
                for (end = start + 1; end < n && fits_round(puts + start, end - start,
                                                             &puts[end]); end++)
                        ;
                if (write_round(fs, puts + start, end - start, err) < 0)
                        return -1;
        }
        return 0;
}

static int fat_mkdir(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        struct fat_state *st = fs->priv;
        const struct fat_entry *e;
        char tgt[PATH_MAX + 8];
        int r;

        if (check_fat_path(fs, path, err) < 0 || check_parent(fs, path, err) < 0)
                return -1;
        r = strcmp(path, "/") == 0 ? 1 : lookup(fs, path, &e, err);
        if (r < 0)
                return -1;
        if (r == 1)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' already exists", fs->what, path);
        if (target(path, false, tgt, sizeof(tgt), err) < 0)
                return -1;
        const char *argv[] = { MMD_PATH, "-i", st->drive, tgt, NULL };
        if (run_write(fs, argv, "create folder", path, err) < 0)
                return -1;
        /* a new folder is empty: nothing to list (failing to note it costs an mdir) */
        struct fat_dir empty = { .path = strdup(path) };
        if (empty.path)
                add_dir(st, &empty);
        return 0;
}

static int fat_remove(struct bimg_fs *fs, const char *path, bool recursive,
                      struct bimg_error *err)
{
        struct fat_state *st = fs->priv;
        const struct fat_entry *e;
        const struct fat_dir *d;
        char tgt[PATH_MAX + 8];
        const char *tool;

        if (strcmp(path, "/") == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: refusing to remove '/'", fs->what);
        if (check_fat_path(fs, path, err) < 0 || stat_entry(fs, path, &e, err) < 0)
                return -1;
        if (e->st.is_dir && !recursive) {
                if (get_dir(fs, path, &d, err) < 0)
                        return -1;
                if (d->n > 0)
                        return bimg_fail(err, BIMG_E_INVALID,
                                         "%s: folder '%s' is not empty; use -r to remove it "
                                         "with everything in it", fs->what, path);
        }
        tool = !e->st.is_dir ? MDEL_PATH : recursive ? MDELTREE_PATH : MRD_PATH;
        if (target(path, false, tgt, sizeof(tgt), err) < 0)
                return -1;
        const char *argv[] = { tool, "-i", st->drive, tgt, NULL };
        return run_write(fs, argv, "remove", path, err);
}

/* Take what mcopy copied out for path (entry e) into the file cache. */
static void cache_copied(struct fat_state *st, const char *dir, const char *path,
                         const struct fat_entry *e)
{
        struct bimg_error ignored = { 0 };
        char host[PATH_MAX], *data = NULL;
        size_t len = 0;

        if (snprintf(host, sizeof(host), "%s/%s", dir, e->name) >= (int)sizeof(host) ||
            file_read_path(host, FAT_FILE_CACHE_MAX, &data, &len, &ignored) < 0)
                return;
        if (len == e->st.size)  /* anything else is not trusted: read again when asked */
                cache_file(st, path, data, len);
        else
                free(data);
}

#define PREFETCH_MAX 16

/* argv of an mcopy copying the FAT files tgts ("::/path") into the host folder dir */
static void copy_out_argv(const struct fat_state *st, char (*tgts)[PATH_MAX + 8], size_t k,
                          const char *dir, const char **argv)
{
        size_t a = 0;

        argv[a++] = MCOPY_PATH;
        argv[a++] = "-n";
        argv[a++] = "-i";
        argv[a++] = st->drive;
        for (size_t i = 0; i < k; i++)
                argv[a++] = tgts[i];
        argv[a++] = dir;
        argv[a] = NULL;
}

/* Cache what mcopy copied into dir of each of paths that the listing shows as a
 * small file not cached yet. */
static void cache_copies(struct bimg_fs *fs, const char *dir, const char *const *paths,
                         size_t k)
{
        struct fat_state *st = fs->priv;

        for (size_t i = 0; i < k; i++) {
                struct bimg_error ignored = { 0 };
                const struct fat_entry *e;

                if (!cached_file(st, paths[i]) && stat_entry(fs, paths[i], &e, &ignored) == 0 &&
                    !e->st.is_dir && e->st.size <= FAT_FILE_CACHE_MAX)
                        cache_copied(st, dir, paths[i], e);
        }
}

/* The first look-up of all, asked for with files to read: the files are copied
 * out by an mcopy running beside the `mdir -/` (two tools at once, on two cores),
 * before their sizes are known. So each copy is capped at the cache's limit, a
 * missing file only makes mcopy complain, and a copy is kept only if its size
 * is the one the listing gives. */
static void list_tree_and_copy(struct bimg_fs *fs, const char *const *paths, size_t n)
{
        struct fat_state *st = fs->priv;
        const char *argv[PREFETCH_MAX + 6], *wanted[PREFETCH_MAX];
        char tgts[PREFETCH_MAX][PATH_MAX + 8], dir[PATH_MAX];
        struct bimg_error ignored = { 0 };
        struct bimg_run_result res;
        struct spawn_job listing, copy;
        bool listed, copying = false, made_dir = false;
        size_t k = 0;

        for (size_t i = 0; i < n && k < PREFETCH_MAX; i++) {
                bool clash = false;

                ignored = (struct bimg_error){ 0 };
                if (strcmp(paths[i], "/") == 0 || check_fat_path(fs, paths[i], &ignored) < 0 ||
                    target(paths[i], false, tgts[k], sizeof(tgts[k]), &ignored) < 0)
                        continue;
                for (size_t j = 0; j < k; j++)  /* all land in one host folder */
                        clash = clash || strcasecmp(path_basename(wanted[j]),
                                                    path_basename(paths[i])) == 0;
                if (!clash)
                        wanted[k++] = paths[i];
        }
        /* the listing first: the longer of the two, and what comes next waits for it */
        listed = start_tree_listing(fs, &listing);
        snprintf(dir, sizeof(dir), "%s/balena-img-XXXXXX", file_scratch_dir());
        made_dir = k > 0 && mkdtemp(dir);
        if (made_dir) {
                copy_out_argv(st, tgts, k, dir, argv);
                copying = spawn_start(argv, fs->image_fd, -1, FAT_FILE_CACHE_MAX, &copy,
                                      &ignored) == 0;
        }
        if (listed)
                finish_tree_listing(fs, &listing);
        if (copying && spawn_finish(&copy, &res, &ignored) == 0)
                cache_copies(fs, dir, wanted, k);
        if (made_dir)
                remove_tree(dir);
}

/* The first look-up of all, with a change announced: minfo and mshowfat are
 * running already, so the files are read from where they show them (see
 * read_by_layout()) once the listing tells their sizes; no copy beside it. */
static void list_tree_and_read(struct bimg_fs *fs, const char *const *paths, size_t n)
{
        struct fat_state *st = fs->priv;

        list_tree(fs);
        for (size_t i = 0; i < n; i++) {
                struct bimg_error ignored = { 0 };
                const struct fat_entry *e;
                char *data;
                size_t len;

                if (!cached_file(st, paths[i]) && strcmp(paths[i], "/") != 0 &&
                    check_fat_path(fs, paths[i], &ignored) == 0 &&
                    stat_entry(fs, paths[i], &e, &ignored) == 0 &&
                    read_by_layout(fs, paths[i], e, &data, &len))
                        cache_file(st, paths[i], data, len);
        }
}

/* Small files asked for together are copied out with one mcopy into a private
 * folder and cached, instead of one mtype each. Best effort: a file that is
 * missing, large, or not copied is just read when asked for. */
static void fat_prefetch(struct bimg_fs *fs, const char *const *paths, size_t n)
{
        struct fat_state *st = fs->priv;
        const struct fat_entry *found[PREFETCH_MAX];
        const char *argv[PREFETCH_MAX + 6], *wanted[PREFETCH_MAX];
        char tgts[PREFETCH_MAX][PATH_MAX + 8], dir[PATH_MAX];
        struct bimg_run_result res;
        struct bimg_error ignored = { 0 };
        size_t k = 0;

        if (!st->listed_tree && change_announced(st))
                list_tree_and_read(fs, paths, n);
        else if (!st->listed_tree)
                list_tree_and_copy(fs, paths, n);
        for (size_t i = 0; i < n && k < PREFETCH_MAX; i++) {
                const struct fat_entry *e;
                bool clash = false;

                ignored = (struct bimg_error){ 0 };
                if (cached_file(st, paths[i]) || check_fat_path(fs, paths[i], &ignored) < 0 ||
                    stat_entry(fs, paths[i], &e, &ignored) < 0 || e->st.is_dir ||
                    e->st.size > FAT_FILE_CACHE_MAX ||
                    target(paths[i], false, tgts[k], sizeof(tgts[k]), &ignored) < 0)
                        continue;
                for (size_t j = 0; j < k; j++)  /* all land in one host folder */
                        clash = clash || strcasecmp(found[j]->name, e->name) == 0;
                if (clash || strchr(e->name, '/'))
                        continue;
                wanted[k] = paths[i];
                found[k++] = e;
        }
        if (k < 2)                      /* one file costs one spawn either way */
                return;
        snprintf(dir, sizeof(dir), "%s/balena-img-XXXXXX", file_scratch_dir());
        if (!mkdtemp(dir))
                return;
        copy_out_argv(st, tgts, k, dir, argv);
        ignored = (struct bimg_error){ 0 };
        if (run_tool(fs, argv, -1, NULL, NULL, &res, &ignored) == 0 && res.exit_status == 0)
                cache_copies(fs, dir, wanted, k);
        remove_tree(dir);
}

static int fat_free_space(struct bimg_fs *fs, uint64_t *ret_bytes, struct bimg_error *err)
{
        struct fat_state *st = fs->priv;
        const struct fat_dir *d;

        if (!st->has_free && get_dir(fs, "/", &d, err) < 0)
                return -1;
        if (!st->has_free)
                return bimg_fail(err, BIMG_E_IO, "%s: mdir did not report the free space",
                                 fs->what);
        *ret_bytes = st->free_bytes;
        return 0;
}

/* Untouched files and free space that hold at least this much together are
 * worth the two tool runs that find where they lie. */
#define LEAVE_OUT_MIN_TOTAL (1u << 20)

static bool worth_leaving_out(const struct fat_state *st, uint64_t file_bytes)
{
        return file_bytes + (st->has_free ? st->free_bytes : 0) >= LEAVE_OUT_MIN_TOTAL;
}

/* "::" + the path of entry e of folder d: malloc'd, NULL when out of memory */
static char *entry_target(const struct fat_dir *d, const struct fat_entry *e)
{
        char *t;

        return asprintf(&t, "::%s/%s", strcmp(d->path, "/") == 0 ? "" : d->path, e->name) < 0
                       ? NULL
                       : t;
}

static bool push(char **list, size_t *n, char *item)
{
        if (item)
                list[(*n)++] = item;
        return item != NULL;
}

/* path with every component the cached listings know by its long name (FAT
 * also finds "/FIRMWA~1.BIN" as "/firmware-big.bin"); the rest as it is.
 * Malloc'd, NULL when out of memory. */
static char *long_path(struct fat_state *st, const char *path)
{
        char cur[PATH_MAX] = "", *rest = strdup(path), *save = NULL;
        bool known = true;

        if (!rest)
                return NULL;
        for (char *c = strtok_r(rest, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                const struct fat_dir *d = known ? cached_dir(st, cur[0] ? cur : "/") : NULL;
                const struct fat_entry *e = d ? find_entry(d, c) : NULL;
                const char *name = e ? e->name : c;

                known = e != NULL;
                if (strlen(cur) + 1 + strlen(name) >= sizeof(cur)) {
                        free(rest);
                        return NULL;
                }
                strcat(cur, "/");
                strcat(cur, name);
        }
        free(rest);
        return strdup(cur[0] ? cur : "/");
}

/* a path none of the changes at paths (in long form: written or removed) touch */
static bool untouched(const char *path, char *const *paths, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (is_within(path, paths[i]) || is_within(paths[i], path))
                        return false;
        return true;
}

static void free_list(char **list, size_t n)
{
        for (size_t i = 0; list && i < n; i++)
                free(list[i]);
        free(list);
}

/* The levels of folders below the root of the cached whole tree: 0 when
 * the root holds only files. */
static unsigned tree_depth(const struct fat_state *st)
{
        unsigned depth = 0;

        for (size_t i = 0; i < st->n_dirs; i++) {
                unsigned d = 0;

                for (const char *c = st->dirs[i].path; *c; c++)
                        d += *c == '/' && c[1] != '\0';
                depth = d > depth ? d : depth;
        }
        return depth;
}

/* The mshowfat running or run shows every file of the cached whole tree. */
static bool layout_covers(const struct fat_state *st)
{
        return fat_layout_started(&st->layout) && st->whole_tree &&
               (st->layout.show_depth == 0 || tree_depth(st) < st->layout.show_depth);
}

/* Start finding where the files of the cached whole tree sit. mshowfat is
 * shown each folder as "::/dir/" and a star: one look-up for all it holds (a
 * name costs a look-up each, and a boot partition holds hundreds of overlays).
 * One started before the listing, with globs, is kept if it reaches every
 * folder. False when it did not start. */
static bool start_layout(struct bimg_fs *fs)
{
        struct fat_state *st = fs->priv;
        char **show;
        size_t n_show = 0;
        bool ok;

        if (layout_covers(st))
                return true;
        fat_layout_drop_show(&st->layout);
        show = calloc(st->n_dirs + 2, sizeof(*show));
        ok = st->whole_tree && show && push(show, &n_show, strdup("::/"));

        for (size_t i = 0; ok && i < st->n_dirs; i++) {
                const char *dir = st->dirs[i].path;
                struct bimg_error bad = { 0 };
                char *glob = NULL;

                /* a folder whose name mtools would read as a pattern: no guessing */
                ok = check_fat_path(fs, dir, &bad) == 0 &&
                     asprintf(&glob, "::%s/*", strcmp(dir, "/") == 0 ? "" : dir) >= 0 &&
                     push(show, &n_show, glob);
        }
        if (ok) {
                fat_layout_start_info(fs->image_fd, st->drive, &st->layout);
                fat_layout_start_show(fs->image_fd, st->drive, (const char *const *)show,
                                      n_show, 0, &st->layout);
        }
        free_list(show, n_show);
        return ok && fat_layout_started(&st->layout);
}

/* mshowfat's globs before the listing: files three levels down (x86's
 * /EFI/BOOT/grub.cfg) */
#define SHOW_GLOB_DEPTH 3

/* A change is coming: its staged copy will want to know where the files sit,
 * so minfo and mshowfat start now, beside whatever the caller does until then
 * (listing the boot partition, loading libnm for a profile). Before the first
 * listing, mshowfat is shown globs: the files it reads next come from there
 * (read_by_layout()). */
static void fat_expect_change(struct bimg_fs *fs)
{
        static const char *const globs[SHOW_GLOB_DEPTH + 1] = { "::/", "::/*", "::/*/*",
                                                                "::/*/*/*" };
        struct fat_state *st = fs->priv;
        uint64_t bytes = 0;

        if (!st->listed_tree) {
                fat_layout_start_info(fs->image_fd, st->drive, &st->layout);
                fat_layout_start_show(fs->image_fd, st->drive, globs, SHOW_GLOB_DEPTH + 1,
                                      SHOW_GLOB_DEPTH, &st->layout);
                return;
        }
        for (size_t i = 0; st->whole_tree && i < st->n_dirs; i++)
                for (size_t j = 0; j < st->dirs[i].n; j++)
                        bytes += st->dirs[i].entries[j].st.size;
        if (worth_leaving_out(st, bytes))
                start_layout(fs);
}

/* With a change coming, minfo and mshowfat run anyway (fat_expect_change()): a
 * small file is then read straight from the clusters they show, a tool run
 * saved. False when they do not show it whole: read it with mtools. */
static bool read_by_layout(struct bimg_fs *fs, const char *path, const struct fat_entry *e,
                           char **ret_data, size_t *ret_len)
{
        struct fat_state *st = fs->priv;
        struct range_set at = { 0 };
        char *long_name, *tgt;
        char *data = NULL;
        size_t done = 0;
        bool ok;

        if (!layout_covers(st) || e->st.is_dir || e->st.size > FAT_FILE_CACHE_MAX ||
            !(long_name = long_path(st, path)))
                return false;
        if (asprintf(&tgt, "::%s", long_name) < 0)
                tgt = NULL;
        free(long_name);
        ok = tgt && (e->st.size == 0 ||
                     fat_layout_file(&st->layout, fs->size, tgt, e->st.size, &at) == 0);
        free(tgt);
        data = ok ? malloc(e->st.size + 1) : NULL;
        ok = data != NULL;
        for (size_t i = 0; ok && i < at.n; i++) {
                size_t len = at.r[i].end - at.r[i].start;

                ok = file_pread_all(fs->image_fd, data + done, len,
                                    fs->offset + at.r[i].start) == 0;
                done += len;
        }
        range_free(&at);
        if (!ok) {
                free(data);
                return false;
        }
        data[e->st.size] = '\0';
        *ret_data = data;
        *ret_len = e->st.size;
        return true;
}

/* The files of the cached whole tree that none of paths touch, and the free
 * space (fat-layout.c says when). */
static void fat_leave_out(struct bimg_fs *fs, const char *const *paths, size_t n,
                          struct range_set *ret)
{
        struct fat_state *st = fs->priv;
        size_t n_entries = 0, n_names = 0, n_long = 0;
        char **names = NULL, **longs = NULL;
        uint64_t bytes = 0;
        bool ok = st->whole_tree;

        for (size_t i = 0; ok && i < st->n_dirs; i++)
                n_entries += st->dirs[i].n;
        longs = ok ? calloc(n + 1, sizeof(*longs)) : NULL;
        names = longs ? calloc(n_entries + 1, sizeof(*names)) : NULL;
        ok = names != NULL;
        for (size_t i = 0; ok && i < n; i++)
                ok = push(longs, &n_long, long_path(st, paths[i]));
        for (size_t i = 0; ok && i < st->n_dirs; i++) {
                const struct fat_dir *d = &st->dirs[i];

                for (size_t j = 0; ok && j < d->n; j++) {
                        const struct fat_entry *e = &d->entries[j];
                        char *t;

                        if (e->st.is_dir || e->st.size == 0)
                                continue;
                        t = entry_target(d, e);
                        if (t && untouched(t + 2, longs, n_long)) {
                                ok = push(names, &n_names, t);
                                bytes += e->st.size;
                        } else {
                                ok = t != NULL;
                                free(t);
                        }
                }
        }
        if (ok && worth_leaving_out(st, bytes) && start_layout(fs))
                fat_layout_finish(&st->layout, fs->size, (const char **)names, n_names,
                                  st->has_free ? st->free_bytes : UINT64_MAX, ret);
        else
                fat_layout_cancel(&st->layout);
        free_list(names, n_names);
        free_list(longs, n_long);
}

const struct bimg_fs_ops fat_ops = {
        .name = "vfat",
        .open = fat_open,
        .close = fat_close,
        .list = fat_list,
        .stat = fat_stat,
        .read_to_fd = fat_read_to_fd,
        .read_small = fat_read_small,
        .write_from_file = fat_write_from_file,
        .write_files = fat_write_files,
        .mkdir = fat_mkdir,
        .remove = fat_remove,
        .free_space = fat_free_space,
        .check_path = check_fat_path,
        .take_cache = fat_take_cache,
        .prefetch = fat_prefetch,
        .leave_out = fat_leave_out,
        .expect_change = fat_expect_change,
};
