/* SPDX-License-Identifier: Apache-2.0 */
/* SSH public keys: a whole .pub / authorized_keys file, and the first line on
 * its own; every accepted key must pass the line check again unchanged. */
#include "config/sshkey.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct bimg_error err = { 0 };
        char **keys = NULL, *line, *nl, *norm = NULL;
        size_t n = 0;
        int r;

        r = sshkey_parse_file((const char *)data, size, "key.pub", &keys, &n, &err);
        fuzz_check_error(r, &err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                char *again = NULL;

                memset(&err, 0, sizeof(err));
                if (sshkey_check_line(keys[i], "key.pub", &again, &err) < 0 ||
                    strcmp(again, keys[i]) != 0 || !sshkey_same(again, keys[i]))
                        abort();
                free(again);
        }
        if (r == 0)
                sshkey_free_list(keys, n);

        line = fuzz_strdup(data, size);
        if (!line)
                return 0;
        nl = strchr(line, '\n');
        if (nl)
                *nl = '\0';
        memset(&err, 0, sizeof(err));
        r = sshkey_check_line(line, "--ssh-key", &norm, &err);
        fuzz_check_error(r, &err);
        if (r == 0)
                free(norm);
        free(line);
        return 0;
}
