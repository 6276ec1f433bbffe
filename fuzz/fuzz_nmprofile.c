/* SPDX-License-Identifier: Apache-2.0 */
/* A user's NetworkManager keyfile (net_check_profile: libnm's keyfile reader
 * and verify, loaded with dlopen as in the tool), and the first line as a
 * profile file name. */
#include "fuzz.h"
#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct bimg_error err = { 0 };
        char *name, *nl;

        fuzz_check_error(net_check_profile((const char *)data, size, "wifi.nmconnection", &err),
                         &err);
        name = fuzz_strdup(data, size);
        if (!name)
                return 0;
        nl = strchr(name, '\n');
        if (nl)
                *nl = '\0';
        memset(&err, 0, sizeof(err));
        fuzz_check_error(net_check_profile_name(name, &err), &err);
        free(name);
        return 0;
}
