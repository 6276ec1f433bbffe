/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which bytes of a FAT partition hold which file, from mtools itself: minfo
 * gives the layout (where the data area starts, how big a cluster is),
 * mshowfat the clusters of each file. A staged change (ops/txn.c) leaves out
 * the bytes that only files it does not touch use: on a real boot partition,
 * tens of megabytes of firmware that would otherwise be copied and compared on
 * every change. The same runs tell where a small file's bytes are, so the files
 * a change reads first are read from there, not copied out by one more tool.
 */
#include <stdlib.h>
#include <string.h>

#include "fs/fat-layout.h"
#include "fs/fs.h"


struct geometry {
        uint64_t data_start;    /* bytes from the partition's start */
        uint64_t data_end;      /* the end of the last whole cluster */
        uint64_t cluster_bytes;
};

/* The number after "key" on its line of minfo's output; 0 if absent. */
static uint64_t field(const char *out, const char *key)
{
        const char *at = strstr(out, key);

        return at ? strtoull(at + strlen(key), NULL, 10) : 0;
}

static int parse_geometry(const char *out, uint64_t part_size, struct geometry *g)
{
        uint64_t sector = field(out, "\nsector size: "), per_cluster = field(out, "\ncluster size: ");
        uint64_t reserved = field(out, "\nreserved (boot) sectors: "), fats = field(out, "\nfats: ");
        uint64_t slots = field(out, "\nmax available root directory slots: ");
        uint64_t fat_len = field(out, "\nsectors per fat: ");
        uint64_t sectors = field(out, "\nsmall size: ");
        uint64_t root_bytes, end;

        if (fat_len == 0)
                fat_len = field(out, "\nBig fatlen=");  /* FAT32 */
        if (sectors == 0)
                sectors = field(out, "\nbig size: ");
        if (sector < 512 || sector > 4096 || (sector & (sector - 1)) || per_cluster == 0 ||
            per_cluster > 256 || reserved == 0 || fats == 0 || fats > 4 || fat_len == 0 ||
            fat_len > part_size / sector)
                return -1;
        root_bytes = (slots * 32 + sector - 1) / sector * sector;
        g->data_start = (reserved + fats * fat_len) * sector + root_bytes;
        g->cluster_bytes = per_cluster * sector;
        if (g->data_start >= part_size)
                return -1;
        /* the filesystem's size unknown or too big: no cluster counts as free */
        end = sectors && sectors <= part_size / sector ? sectors * sector : g->data_start;
        g->data_end = end > g->data_start
                              ? g->data_start + (end - g->data_start) / g->cluster_bytes *
                                                        g->cluster_bytes
                              : g->data_start;
        return 0;
}

/* "<2-5> <9>": every cluster run, as bytes, into set. */
static int add_clusters(const char *runs, const struct geometry *g, uint64_t part_size,
                        struct range_set *set)
{
        const char *p = runs;

        while ((p = strchr(p, '<'))) {
                char *end;
                uint64_t first = strtoull(p + 1, &end, 10), last = first;

                if (*end == '-')
                        last = strtoull(end + 1, &end, 10);
                if (*end != '>' || first < 2 || last < first ||
                    last - 2 >= (part_size - g->data_start) / g->cluster_bytes)
                        return -1;
                if (range_add(set, g->data_start + (first - 2) * g->cluster_bytes,
                              g->data_start + (last - 1) * g->cluster_bytes) < 0)
                        return -1;
                p = end;
        }
        return 0;
}

static int by_name(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* path (len bytes, not NUL-terminated) is one of the sorted names */
static bool is_leave_out(char *path, size_t len, const char *const *names, size_t n)
{
        char saved = path[len];
        const char *key = path;
        bool found;

        path[len] = '\0';
        found = bsearch(&key, names, n, sizeof(*names), by_name) != NULL;
        path[len] = saved;
        return found;
}

/* mshowfat's lines, "::/path <2-5> <9>" (or "::/path Root directory or empty
 * file"), into the clusters of the files named (sorted) and those of all else.
 * out is mshowfat's output, cut into lines here. */
static int parse_clusters(char *out, const struct geometry *g, uint64_t part_size,
                          const char *const *names, size_t n, struct range_set *cold,
                          struct range_set *hot)
{
        for (char *line = out, *next; line && *line; line = next) {
                char *runs;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                runs = strstr(line, " <");      /* FAT names cannot hold '<' */
                if (!runs)
                        continue;
                if (add_clusters(runs, g, part_size,
                                 is_leave_out(line, (size_t)(runs - line), names, n) ? cold
                                                                                        : hot) < 0)
                        return -1;
        }
        return 0;
}

/* The clusters no file or folder shown holds, into *ret, if they add up to the
 * free space mdir reports (free_bytes): then no cluster in use by anything
 * mshowfat was not shown (or a chain no entry leads to) is among them, and
 * mtools writes into none of the others. Else nothing. (On FAT32 mdir takes
 * the count the info sector keeps; a stale one makes the sums differ, short of
 * a coincidence that could let through only a chain no entry leads to, as
 * every folder is shown.) An image whose free space is stored as data (not
 * sparse: what unzip makes) would otherwise have it all copied and compared. */
static int free_clusters(const struct geometry *g, const struct range_set *cold,
                         const struct range_set *hot, uint64_t free_bytes,
                         struct range_set *ret)
{
        struct range_set claimed = { 0 };
        int r = range_add_set(&claimed, cold) < 0 || range_add_set(&claimed, hot) < 0 ||
                                range_add(ret, g->data_start, g->data_end) < 0
                        ? -1
                        : 0;

        range_normalize(&claimed);
        if (r == 0)
                r = range_subtract(ret, &claimed);
        if (r < 0 || range_total(ret) != free_bytes)
                ret->n = 0;
        range_free(&claimed);
        return r;
}

static void start(const char *const argv[], int image_fd, struct fat_layout_tool *t)
{
        struct bimg_error ignored = { 0 };

        if (!t->running && !t->done)
                t->running = spawn_start_captured(argv, image_fd, 0, &t->job, &ignored) == 0;
}

/* Wait for t (if running); what it printed is kept, NULL if it failed. */
static void finish(struct fat_layout_tool *t)
{
        struct bimg_error ignored = { 0 };
        struct bimg_run_result res;
        size_t len;

        if (!t->running)
                return;
        /* mshowfat exits 1 when a path is missing (a file about to be made):
         * its output still holds every other one */
        if (spawn_finish_captured(&t->job, 8u << 20, &t->out, &len, &res, &ignored) < 0)
                t->out = NULL;
        t->running = false;
        t->done = true;
}

static void drop(struct fat_layout_tool *t)
{
        if (t->running)                 /* it only reads: stopping it is safe */
                spawn_abandon(&t->job);
        free(t->out);
        *t = (struct fat_layout_tool){ 0 };
}

void fat_layout_start_info(int image_fd, const char *drive, struct fat_layout_run *run)
{
        const char *info_argv[] = { MINFO_PATH, "-i", drive, "::", NULL };

        start(info_argv, image_fd, &run->info);
}

void fat_layout_start_show(int image_fd, const char *drive, const char *const *show,
                           size_t n_show, unsigned depth, struct fat_layout_run *run)
{
        const char **show_argv;
        size_t a = 0;

        if (run->show.running || run->show.done ||
            !(show_argv = calloc(n_show + 4, sizeof(*show_argv))))
                return;
        show_argv[a++] = MSHOWFAT_PATH;
        show_argv[a++] = "-i";
        show_argv[a++] = drive;
        for (size_t i = 0; i < n_show; i++)
                show_argv[a++] = show[i];
        start(show_argv, image_fd, &run->show);
        run->show_depth = depth;
        free(show_argv);
}

bool fat_layout_started(const struct fat_layout_run *run)
{
        return (run->info.running || run->info.done) && (run->show.running || run->show.done);
}

void fat_layout_drop_show(struct fat_layout_run *run)
{
        drop(&run->show);
        run->show_depth = 0;
}

void fat_layout_wait(struct fat_layout_run *run)
{
        finish(&run->show);
        finish(&run->info);
}

void fat_layout_cancel(struct fat_layout_run *run)
{
        drop(&run->show);
        drop(&run->info);
        run->show_depth = 0;
}

/* The line of out that shows target, as "<runs>" (to the line's end, malloc'd);
 * NULL if none does. */
static char *runs_of(const char *out, const char *target)
{
        size_t len = strlen(target);

        for (const char *line = out; line && *line;) {
                const char *eol = strchr(line, '\n');
                size_t line_len = eol ? (size_t)(eol - line) : strlen(line);

                if (line_len > len + 1 && strncmp(line, target, len) == 0 &&
                    strncmp(line + len, " <", 2) == 0)
                        return strndup(line + len, line_len - len);
                line = eol ? eol + 1 : NULL;
        }
        return NULL;
}

int fat_layout_file(struct fat_layout_run *run, uint64_t part_size, const char *target,
                    uint64_t size, struct range_set *ret)
{
        struct geometry g;
        char *runs;
        uint64_t taken;
        int r;

        *ret = (struct range_set){ 0 };
        fat_layout_wait(run);
        if (size == 0 || !run->info.out || !run->show.out ||
            parse_geometry(run->info.out, part_size, &g) < 0 ||
            !(runs = runs_of(run->show.out, target)))
                return -1;
        /* kept in chain order: the file's bytes run through them in turn */
        r = add_clusters(runs, &g, part_size, ret);
        free(runs);
        taken = range_total(ret);
        if (r < 0 || taken < size || taken - size >= g.cluster_bytes) {
                range_free(ret);
                return -1;
        }
        ret->r[ret->n - 1].end -= taken - size;
        return 0;
}

int fat_layout_finish(struct fat_layout_run *run, uint64_t part_size, const char **names,
                      size_t n_names, uint64_t free_bytes, struct range_set *ret)
{
        struct range_set cold = { 0 }, hot = { 0 }, unused = { 0 };
        char *shown;
        struct geometry g;
        int r = -1;

        fat_layout_wait(run);
        shown = run->show.out ? strdup(run->show.out) : NULL;  /* kept whole for reads */
        qsort(names, n_names, sizeof(*names), by_name);
        if (run->info.out && shown && parse_geometry(run->info.out, part_size, &g) == 0 &&
            parse_clusters(shown, &g, part_size, names, n_names, &cold, &hot) == 0) {
                range_normalize(&cold);
                range_normalize(&hot);
                r = free_clusters(&g, &cold, &hot, free_bytes, &unused);
                /* a cluster anything else claims too (a damaged FAT) is copied */
                if (r == 0)
                        r = range_subtract(&cold, &hot);
                /* each cut to whole blocks alone: a block mtools writes part of
                 * must hold no file's bytes, as the rest reads back as zeros */
                range_shrink_to(&cold, FS_LEAVE_OUT_ALIGN);
                range_shrink_to(&unused, FS_LEAVE_OUT_ALIGN);
                if (r == 0)
                        r = range_add_set(&cold, &unused);
                range_normalize(&cold);
        }
        free(shown);
        range_free(&hot);
        range_free(&unused);
        if (r == 0)
                *ret = cold;
        else
                range_free(&cold);
        return r;
}
