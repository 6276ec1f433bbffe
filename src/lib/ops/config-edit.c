/* SPDX-License-Identifier: Apache-2.0 */
/* Reading config.json of an image, one key of it, or checking a loose file.
 * Changes go through bimg_configure (sets and unsets), the one write path. */
#include <stdlib.h>

#include "config/config.h"


int bimg_config_read(struct bimg_image *img, char **ret_text, size_t *ret_len,
                     struct bimg_error *err)
{
        const struct bimg_part *boot;
        struct bimg_fs *fs;

        if (bimg_image_require_role(img, BIMG_ROLE_BOOT, &boot, err) < 0 ||
            bimg_image_fs(img, boot, &fs, err) < 0)
                return -1;
        return bimg_fs_read_alloc(fs, "/config.json", CONFIG_JSON_MAX, ret_text, ret_len, err);
}

int bimg_config_get(struct bimg_image *img, const char *key, char **ret_text,
                    struct bimg_error *err)
{
        struct bimg_config *cfg;
        char *text;
        size_t len;
        int r;

        if (bimg_config_read(img, &text, &len, err) < 0)
                return -1;
        r = config_parse(text, len, "config.json", &cfg, err);
        free(text);
        if (r < 0)
                return -1;
        r = config_get_text(cfg, key, ret_text, err);
        config_free(cfg);
        return r;
}

int bimg_config_check_text(const char *text, size_t len, const char *origin, bool is_flasher,
                           bimg_warn_fn warn, void *warn_data, struct bimg_error *err)
{
        struct bimg_config *cfg;
        int r;

        if (config_parse(text, len, origin, &cfg, err) < 0)
                return -1;
        r = config_validate(cfg, origin, is_flasher, warn, warn_data, err);
        config_free(cfg);
        return r;
}
