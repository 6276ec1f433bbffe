/* SPDX-License-Identifier: Apache-2.0 */
/* Recognise files people pass by mistake, so the error can say what they are. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"

static const struct {
        const char *magic;
        size_t len;
        size_t offset;
        const char *name;
        const char *hint;
} formats[] = {
        { "PK\x03\x04", 4, 0, "a zip archive",
          "unzip it and pass the .img inside (balenaCloud downloads are zipped)" },
        { "\x1f\x8b", 2, 0, "a gzip file", "decompress it with gunzip and pass the .img" },
        { "\xfd" "7zXZ\0", 6, 0, "an xz file", "decompress it with unxz and pass the .img" },
        { "\x28\xb5\x2f\xfd", 4, 0, "a zstd file", "decompress it with unzstd and pass the .img" },
        { "BZh", 3, 0, "a bzip2 file", "decompress it with bunzip2 and pass the .img" },
        { "7z\xbc\xaf\x27\x1c", 6, 0, "a 7-zip archive", "extract it and pass the .img inside" },
        { "\x89PNG\r\n\x1a\n", 8, 0, "a PNG picture", "pass a balenaOS disk image (.img)" },
        { "\xff\xd8\xff", 3, 0, "a JPEG picture", "pass a balenaOS disk image (.img)" },
        { "QFI\xfb", 4, 0, "a qcow2 virtual disk",
          "convert it with 'qemu-img convert -O raw' and pass the raw image" },
        { "ustar", 5, 257, "a tar archive", "extract it and pass the .img inside" },
        { "\x53\xef", 2, 1080, "a bare ext2/3/4 filesystem without a partition table",
          "pass the whole-disk balenaOS image, not one partition" },
};

const char *sniff_format(const unsigned char *head, size_t len, const char **ret_hint)
{
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
                if (formats[i].offset + formats[i].len > len)
                        continue;
                if (memcmp(head + formats[i].offset, formats[i].magic, formats[i].len) == 0) {
                        *ret_hint = formats[i].hint;
                        return formats[i].name;
                }
        }
        return NULL;
}

bool sniff_compressed(int fd)
{
        static const struct {
                const char *magic;
                size_t len;
        } packed[] = {
                { "PK\x03\x04", 4 }, { "\x1f\x8b", 2 }, { "\xfd" "7zXZ\0", 6 },
                { "\x28\xb5\x2f\xfd", 4 },
        };
        unsigned char head[8];

        if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
                return false;
        for (size_t i = 0; i < sizeof(packed) / sizeof(packed[0]); i++)
                if (memcmp(head, packed[i].magic, packed[i].len) == 0)
                        return true;
        return false;
}

bool bimg_file_is_compressed(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        bool packed = fd >= 0 && sniff_compressed(fd);

        if (fd >= 0)
                close(fd);
        return packed;
}
