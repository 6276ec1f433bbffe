/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "base/path.h"

bool path_has_dotdot(const char *path)
{
        const char *p = path;

        while (*p) {
                const char *end = strchr(p, '/');
                size_t len = end ? (size_t)(end - p) : strlen(p);

                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return true;
                if (!end)
                        break;
                p = end + 1;
        }
        return false;
}

int path_normalize(const char *path, char *out, size_t out_size, struct bimg_error *err)
{
        size_t n = 0;
        const char *p = path;

        if (path_has_dotdot(path))
                return bimg_fail(err, BIMG_E_INVALID,
                                 "path '%s' contains '..'; give a path inside the partition",
                                 path);
        if (out_size < 2)
                return bimg_fail(err, BIMG_E_INVALID, "path '%.80s...' is too long", path);
        while (*p) {
                const char *end = strchr(p, '/');
                size_t len = end ? (size_t)(end - p) : strlen(p);

                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (n + 1 + len + 1 > out_size)
                                return bimg_fail(err, BIMG_E_INVALID,
                                                 "path '%.80s...' is too long", path);
                        out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                if (!end)
                        break;
                p = end + 1;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        return 0;
}

const char *path_basename(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

void path_parent(const char *path, char *parent, size_t parent_size)
{
        const char *slash = strrchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : 0;

        if (len == 0) {
                snprintf(parent, parent_size, "/");
                return;
        }
        snprintf(parent, parent_size, "%.*s", (int)len, path);
}

void path_host_dir(const char *path, char *dir, size_t dir_size)
{
        const char *slash = strrchr(path, '/');

        if (!slash)
                snprintf(dir, dir_size, ".");
        else if (slash == path)
                snprintf(dir, dir_size, "/");
        else
                snprintf(dir, dir_size, "%.*s", (int)(slash - path), path);
}

int path_host_resolve(const char *dir, const char *name, char *out, size_t out_size,
                      struct bimg_error *err)
{
        if (name[0] == '/' || strcmp(dir, ".") == 0) {
                if ((size_t)snprintf(out, out_size, "%s", name) >= out_size)
                        return bimg_fail(err, BIMG_E_INVALID, "path '%.80s...' is too long",
                                         name);
                return 0;
        }
        return path_join(dir, name, out, out_size, err);
}

int path_join(const char *dir, const char *name, char *out, size_t out_size,
              struct bimg_error *err)
{
        size_t dlen = strlen(dir);
        int r;

        while (dlen > 0 && dir[dlen - 1] == '/')        /* exactly one '/' between them */
                dlen--;
        while (*name == '/')
                name++;
        r = snprintf(out, out_size, "%.*s/%s", (int)dlen, dir, name);
        if (r < 0 || (size_t)r >= out_size)
                return bimg_fail(err, BIMG_E_INVALID, "path '%.60s/%.20s...' is too long", dir,
                                 name);
        return 0;
}

static bool is_part_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
}

int path_parse_spec(const char *arg, struct bimg_pathspec *ret_spec, struct bimg_error *err)
{
        /* The image name may itself hold ':'; the spec splits at the first ':' that
         * is followed by a partition token and then '/' or the end. */
        for (const char *colon = strchr(arg, ':'); colon; colon = strchr(colon + 1, ':')) {
                const char *p = colon + 1;
                size_t plen = 0;

                while (is_part_char(p[plen]))
                        plen++;
                if (plen == 0 || (p[plen] != '/' && p[plen] != '\0'))
                        continue;
                if (colon == arg)
                        return bimg_fail(err, BIMG_E_USAGE, "'%s' names no image before ':'",
                                         arg);
                if ((size_t)(colon - arg) >= sizeof(ret_spec->image) ||
                    plen >= sizeof(ret_spec->part))
                        return bimg_fail(err, BIMG_E_USAGE, "'%.80s...' is too long", arg);
                /* ret_spec is written only once the whole spec is known to be good */
                char path[sizeof(ret_spec->path)];

                if (path_normalize(p + plen, path, sizeof(path), err) < 0)
                        return -1;
                memset(ret_spec, 0, sizeof(*ret_spec));
                memcpy(ret_spec->image, arg, (size_t)(colon - arg));
                memcpy(ret_spec->part, p, plen);
                memcpy(ret_spec->path, path, sizeof(path));
                return 1;
        }
        return 0;
}
