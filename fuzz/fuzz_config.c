/* SPDX-License-Identifier: Apache-2.0 */
/* config.json: parsed and checked against the schema (as a device image and as
 * a flasher), then summarised and written back out, which must parse again. */
#include "config/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct bimg_error err = { 0 };
        struct bimg_config *cfg = NULL, *again = NULL;
        struct bimg_config_key keys[64];
        char *text = NULL, *value = NULL;
        size_t len;
        int r;

        for (int flasher = 0; flasher <= 1; flasher++) {
                memset(&err, 0, sizeof(err));
                r = bimg_config_check_text((const char *)data, size, "config.json", flasher,
                                           fuzz_ignore_warning, NULL, &err);
                fuzz_check_error(r, &err);
        }
        memset(&err, 0, sizeof(err));
        if (config_parse((const char *)data, size, "config.json", &cfg, &err) < 0)
                return 0;
        (void)config_summary(cfg, keys, sizeof(keys) / sizeof(keys[0]));
        (void)config_is_true(cfg, "developmentMode");
        if (config_get_text(cfg, "os.network", &value, &err) == 0)
                free(value);
        if (config_dump(cfg, &text, &len, &err) < 0)
                abort();        /* a parsed document can always be written */
        if (config_parse(text, len, "config.json", &again, &err) < 0)
                abort();        /* and what we write parses */
        config_free(again);
        free(text);
        config_free(cfg);
        return 0;
}
