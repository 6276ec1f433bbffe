/* SPDX-License-Identifier: Apache-2.0 */
/* verify: what the boot partition holds for the device (config.json, network
 * profiles, proxy, splash) and the room it keeps for OS updates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/net.h"
#include "ops/headroom.h"
#include "ops/png.h"
#include "ops/verify.h"

#define CONFIG_MAX (4 * 1024 * 1024)
#define PROFILE_MAX (1024 * 1024)
#define PNG_MAX (16 * 1024 * 1024)

struct boot {
        struct bimg_fs *fs;
        const char *label;              /* "resin-boot" */
        struct bimg_verify_report *rep;
        char subject[200];              /* scratch for "resin-boot:/config.json" */
};

static const char *at(struct boot *b, const char *path)
{
        snprintf(b->subject, sizeof(b->subject), "%s:%.150s", b->label, path);
        return b->subject;
}

/* ---- config.json -------------------------------------------------------- */

struct config_warn {
        struct boot *b;
        size_t n;
};

static void note_config_warning(const char *message, void *data)
{
        struct config_warn *w = data;

        w->n++;
        verify_add(w->b->rep, "config.json", at(w->b, "/config.json"), BIMG_CHECK_WARN, "%s",
                   message);
}

static int check_config(struct boot *b, bool is_flasher, struct bimg_error *err)
{
        struct config_warn w = { .b = b };
        struct bimg_error e = { 0 };
        struct bimg_stat st;
        char *text = NULL;
        size_t len;
        int r;

        r = bimg_fs_lookup(b->fs, "/config.json", &st, err);
        if (r < 0)
                return -1;
        if (r == 0 || st.is_dir) {
                verify_add(b->rep, "config.json", at(b, "/config.json"), BIMG_CHECK_SKIPPED,
                           "no config.json: the image is not configured for a fleet yet");
                return 0;
        }
        if (bimg_fs_read_alloc(b->fs, "/config.json", CONFIG_MAX, &text, &len, &e) == 0)
                bimg_config_check_text(text, len, "config.json", is_flasher, note_config_warning,
                                       &w, &e);
        free(text);
        if (e.status != BIMG_OK)
                verify_add(b->rep, "config.json", at(b, "/config.json"), BIMG_CHECK_FAIL, "%s",
                           e.message);
        else if (w.n == 0)
                verify_add(b->rep, "config.json", at(b, "/config.json"), BIMG_CHECK_OK,
                           "valid against the balenaOS schema%s",
                           is_flasher ? " (flasher: installer keys allowed)" : "");
        return 0;
}

/* ---- headroom for OS updates -------------------------------------------- */

/* HUP copies the new boot files over the old ones; the build makes sure the
 * partition holds its files plus one more copy of the largest, and HUP refuses
 * to go below 512 KiB free while copying (spec 2.3). Less than that fails; less
 * than twice that warns (a newer OS with larger boot files may not fit). */
static int check_headroom(struct boot *b, struct bimg_error *err)
{
        uint64_t free_bytes, need, largest;
        char path[512];

        if (bimg_fs_free_space(b->fs, &free_bytes, err) < 0 ||
            headroom_largest(b->fs, NULL, &largest, path, sizeof(path), err) < 0)
                return -1;
        need = headroom_on_disk(largest) + HEADROOM_MARGIN;
        if (free_bytes < need)
                verify_add(b->rep, "headroom", b->label, BIMG_CHECK_FAIL,
                           "%.1f MiB free, but an OS update needs %.1f MiB there (one more copy "
                           "of the largest file, %.300s, plus 512 KiB): remove files you added",
                           free_bytes / 1048576.0, need / 1048576.0, path);
        else if (free_bytes < 2 * need)
                verify_add(b->rep, "headroom", b->label, BIMG_CHECK_WARN,
                           "%.1f MiB free, less than twice the %.1f MiB an OS update needs "
                           "(largest file %.300s): a newer OS with larger boot files may not fit",
                           free_bytes / 1048576.0, need / 1048576.0, path);
        else
                verify_add(b->rep, "headroom", b->label, BIMG_CHECK_OK,
                           "%.1f MiB free; an OS update needs %.1f MiB", free_bytes / 1048576.0,
                           need / 1048576.0);
        return 0;
}

/* ---- NetworkManager profiles and proxy ------------------------------------ */

struct profiles {
        struct boot *b;
        size_t checked, ignored;
        char ignored_names[300];        /* files NetworkManager skips by their name */
};

static int check_profile(const char *name, const struct bimg_stat *st, void *data)
{
        struct profiles *pr = data;
        struct boot *b = pr->b;
        struct bimg_error e = { 0 };
        char path[400], *text = NULL;
        size_t len;

        if (st->is_dir)
                return 0;
        snprintf(path, sizeof(path), "/system-connections/%.300s", name);
        if (net_check_profile_name(name, &e) < 0) {      /* README.ignore, say */
                size_t used = strlen(pr->ignored_names);

                if (used + strlen(name) + 3 < sizeof(pr->ignored_names))
                        snprintf(pr->ignored_names + used, sizeof(pr->ignored_names) - used,
                                 "%s%s", used ? ", " : "", name);
                pr->ignored++;
                return 0;
        }
        if (bimg_fs_read_alloc(b->fs, path, PROFILE_MAX, &text, &len, &e) == 0)
                net_check_profile(text, len, name, &e);
        free(text);
        pr->checked++;
        if (e.status == BIMG_E_UNSUPPORTED)     /* libnm is not installed */
                verify_add(b->rep, "network", at(b, path), BIMG_CHECK_SKIPPED, "%s", e.message);
        else if (e.status != BIMG_OK)
                verify_add(b->rep, "network", at(b, path), BIMG_CHECK_FAIL, "%s", e.message);
        else
                verify_add(b->rep, "network", at(b, path), BIMG_CHECK_OK,
                           "a valid NetworkManager profile (libnm)");
        return 0;
}

static int check_network(struct boot *b, struct bimg_error *err)
{
        struct profiles pr = { .b = b };
        struct bimg_stat st;
        int r;

        r = bimg_fs_lookup(b->fs, "/system-connections", &st, err);
        if (r < 0)
                return -1;
        if (r == 1 && st.is_dir && bimg_fs_list(b->fs, "/system-connections", check_profile, &pr,
                                                 err) < 0)
                return -1;
        if (pr.ignored)
                verify_add(b->rep, "network", at(b, "/system-connections"), BIMG_CHECK_SKIPPED,
                           "%zu file%s NetworkManager ignores by name: %s", pr.ignored,
                           pr.ignored == 1 ? "" : "s", pr.ignored_names);
        if (pr.checked == 0)
                verify_add(b->rep, "network", at(b, "/system-connections"), BIMG_CHECK_SKIPPED,
                           "no NetworkManager profiles (the device uses wired DHCP)");
        return 0;
}

static int check_proxy_file(struct boot *b, const char *path,
                            int (*check)(const char *, size_t, const char *, struct bimg_error *),
                            struct bimg_error *err)
{
        struct bimg_error e = { 0 };
        struct bimg_stat st;
        char *text = NULL;
        size_t len;
        int r;

        r = bimg_fs_lookup(b->fs, path, &st, err);
        if (r <= 0 || st.is_dir)
                return r;
        if (bimg_fs_read_alloc(b->fs, path, PROFILE_MAX, &text, &len, &e) == 0)
                check(text, len, path + 1, &e);
        free(text);
        if (e.status != BIMG_OK)
                verify_add(b->rep, "proxy", at(b, path), BIMG_CHECK_FAIL, "%s", e.message);
        else
                verify_add(b->rep, "proxy", at(b, path), BIMG_CHECK_OK, "valid");
        return 0;
}

/* ---- splash --------------------------------------------------------------- */

static int check_splash(struct boot *b, struct bimg_error *err)
{
        static const char *const names[] = { "/splash/balena-logo.png", "/splash/resin-logo.png" };
        size_t found = 0;

        for (size_t i = 0; i < 2; i++) {
                struct bimg_error e = { 0 };
                struct png_facts facts;
                struct bimg_stat st;
                char *data = NULL;
                size_t len;
                int r = bimg_fs_lookup(b->fs, names[i], &st, err);

                if (r < 0)
                        return -1;
                if (r == 0 || st.is_dir)
                        continue;
                found++;
                if (bimg_fs_read_alloc(b->fs, names[i], PNG_MAX, &data, &len, &e) == 0 &&
                    png_check(data, len, names[i] + 1, &facts, &e) == 0)
                        verify_add(b->rep, "splash", at(b, names[i]), BIMG_CHECK_OK,
                                   "PNG %ux%u decodes", facts.width, facts.height);
                else
                        verify_add(b->rep, "splash", at(b, names[i]), BIMG_CHECK_FAIL, "%s",
                                   e.message);
                free(data);
        }
        if (!found)
                verify_add(b->rep, "splash", at(b, "/splash"), BIMG_CHECK_SKIPPED,
                           "no splash logo (the OS shows its built-in one)");
        return 0;
}

/* ---- the boot partition ------------------------------------------------- */

static int note_flasher(const char *name, const struct bimg_stat *st, void *data)
{
        bool *is_flasher = data;

        if (strcasecmp(name, "balena-image-flasher") == 0 ||
            strcasecmp(name, "resin-image-flasher") == 0)
                *is_flasher = true;
        return 0;
}

int verify_boot(struct bimg_image *img, struct bimg_verify_report *rep, struct bimg_error *err)
{
        struct boot b = { .rep = rep };
        const struct bimg_part *boot;
        struct bimg_error e = { 0 };
        bool is_flasher;
        char subject[160];

        if (bimg_image_require_role(img, BIMG_ROLE_BOOT, &boot, &e) < 0) {
                verify_add(rep, "boot-partition", "image", BIMG_CHECK_FAIL, "%s", e.message);
                verify_add(rep, "boot-partition", "image", BIMG_CHECK_SKIPPED, "config.json, "
                           "headroom, network profiles and splash need a boot partition");
                return 0;
        }
        verify_part_subject(boot, subject, sizeof(subject));
        if (bimg_image_fs(img, boot, &b.fs, &e) < 0) {
                verify_add(rep, "boot-partition", subject,
                           boot->fskind == BIMG_FS_LUKS ? BIMG_CHECK_SKIPPED : BIMG_CHECK_FAIL,
                           "%s; config.json, headroom, network profiles and splash not checked",
                           e.message);
                return 0;
        }
        b.label = boot->label[0] ? boot->label : subject;
        is_flasher = strcasecmp(boot->label, "flash-boot") == 0;
        if (bimg_fs_list(b.fs, "/", note_flasher, &is_flasher, &e) < 0) {
                verify_add(rep, "boot-partition", subject, BIMG_CHECK_FAIL, "%s", e.message);
                return 0;
        }
        /* a partition that cannot be read through is a finding, not the end of the report */
        if (check_config(&b, is_flasher, &e) < 0)
                verify_add(rep, "config.json", b.label, BIMG_CHECK_FAIL, "%s", e.message);
        e = (struct bimg_error){ 0 };
        if (check_headroom(&b, &e) < 0)
                verify_add(rep, "headroom", b.label, BIMG_CHECK_FAIL, "%s", e.message);
        e = (struct bimg_error){ 0 };
        if (check_network(&b, &e) < 0 ||
            check_proxy_file(&b, "/system-proxy/redsocks.conf", net_check_redsocks, &e) < 0 ||
            check_proxy_file(&b, "/system-proxy/no_proxy", net_check_no_proxy, &e) < 0)
                verify_add(rep, "network", b.label, BIMG_CHECK_FAIL, "%s", e.message);
        e = (struct bimg_error){ 0 };
        if (check_splash(&b, &e) < 0)
                verify_add(rep, "splash", b.label, BIMG_CHECK_FAIL, "%s", e.message);
        return 0;
}
