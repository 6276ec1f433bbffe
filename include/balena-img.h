/* SPDX-License-Identifier: Apache-2.0 */
/*
 * balena-img: customise built balenaOS disk images offline.
 *
 * Conventions (see shared style guide): every function that can fail takes a
 * struct bimg_error * last and returns 0 (or a count) on success, -1 on failure
 * with the error filled in. Out-parameters are named ret_* and written only on
 * success. Pointers returned as const are borrowed from their parent object and
 * stay valid until that object is closed. The library never prints or exits.
 */
#ifndef BALENA_IMG_H
#define BALENA_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

enum bimg_status {              /* process exit codes; balena-img(1) EXIT STATUS */
        BIMG_OK = 0,
        BIMG_E_FAILURE = 1,     /* internal error, out of memory */
        BIMG_E_USAGE = 2,       /* bad command line */
        BIMG_E_NOT_FOUND = 3,   /* input or path missing, or not a disk image */
        BIMG_E_UNSUPPORTED = 4, /* LUKS, unknown or damaged filesystem */
        BIMG_E_IO = 5,          /* read/write/tool failure, image in use */
        BIMG_E_INVALID = 6,     /* a value failed validation */
};

struct bimg_error {
        enum bimg_status status;
        char message[512];      /* one line; fixed size so reporting never allocates */
};

/* Record the first failure (later calls keep it) and return -1. */
int bimg_fail(struct bimg_error *err, enum bimg_status status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Same, with ": strerror(errnum)" appended. */
int bimg_fail_errno(struct bimg_error *err, enum bimg_status status, int errnum,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Put "prefix: " in front of an existing message (adds context on the way up). */
void bimg_error_prefix(struct bimg_error *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ---- image and partitions ---------------------------------------------- */

struct bimg_image;

enum bimg_open_flags {
        BIMG_OPEN_READ = 0,     /* shared flock */
        BIMG_OPEN_WRITE = 1,    /* exclusive flock */
};

enum bimg_role {
        BIMG_ROLE_NONE = 0,
        BIMG_ROLE_BOOT,
        BIMG_ROLE_ROOTA,
        BIMG_ROLE_ROOTB,
        BIMG_ROLE_STATE,
        BIMG_ROLE_DATA,
        BIMG_ROLE_COUNT,
};

enum bimg_fskind {
        BIMG_FS_NONE = 0,       /* nothing recognisable (flasher state/data, damaged) */
        BIMG_FS_VFAT,
        BIMG_FS_EXT,            /* ext2/3/4 */
        BIMG_FS_LUKS,           /* crypto_LUKS: reported, never opened */
        BIMG_FS_OTHER,          /* recognised by blkid but not supported */
};

struct bimg_part {
        unsigned number;        /* 1-based, as the kernel numbers it */
        uint64_t offset;        /* bytes from the start of the image */
        uint64_t size;          /* bytes */
        char type[40];          /* MBR type "0x0e" or GPT type GUID */
        char type_name[64];     /* "W95 FAT16 (LBA)", "EFI System", ... ("" if unknown) */
        char name[80];          /* GPT partition name ("" on MBR) */
        bool bootable;          /* MBR active flag / GPT legacy BIOS bootable */
        bool logical;           /* MBR logical partition inside the extended one */
        bool container;         /* the MBR extended partition itself: no filesystem */
        enum bimg_fskind fskind;
        char fstype[24];        /* blkid TYPE: "vfat", "ext4", "crypto_LUKS" or "" */
        char fsversion[16];     /* blkid VERSION: "FAT16", "FAT32", "1.0", "2" or "" */
        char label[80];         /* filesystem (or LUKS2) label, "" if none */
        char uuid[48];          /* filesystem UUID, "" if none */
        enum bimg_role role;
};

/* Warnings go to a callback so the library never prints (libfdisk's ask idea). */
typedef void (*bimg_warn_fn)(const char *message, void *data);

/* Open a raw disk image, read its partition table and probe every partition.
 * Readers take a shared flock, writers (BIMG_OPEN_WRITE) an exclusive one; both
 * fail at once when the other kind holds it. On success *ret_img is yours:
 * bimg_image_close() frees it and everything obtained from it. */
int bimg_image_open(const char *path, unsigned flags, struct bimg_image **ret_img,
                    struct bimg_error *err);
void bimg_image_close(struct bimg_image *img);
void bimg_image_set_warn(struct bimg_image *img, bimg_warn_fn fn, void *data);

const char *bimg_image_path(const struct bimg_image *img);
uint64_t bimg_image_size(const struct bimg_image *img);
const char *bimg_image_table_type(const struct bimg_image *img);  /* "dos" or "gpt" */
const char *bimg_image_disk_id(const struct bimg_image *img);     /* MBR id / GPT GUID */
size_t bimg_image_part_count(const struct bimg_image *img);
const struct bimg_part *bimg_image_part(const struct bimg_image *img, size_t index);

/* The partition holding a role, or NULL. The boot role falls back to the first
 * FAT partition holding /device-type.json, so looking it up may read the image. */
const struct bimg_part *bimg_image_role(struct bimg_image *img, enum bimg_role role);

/* Like bimg_image_role, but a missing role is an error that says why: for the boot
 * partition, a damaged FAT (BIMG_E_UNSUPPORTED) or not a balenaOS image
 * (BIMG_E_NOT_FOUND). */
int bimg_image_require_role(struct bimg_image *img, enum bimg_role role,
                            const struct bimg_part **ret_part, struct bimg_error *err);

/* Fails (BIMG_E_UNSUPPORTED) when the image must not be changed offline: an
 * installed secure-boot disk, whose balenaOS partitions are LUKS-encrypted. */
int bimg_image_check_editable(struct bimg_image *img, struct bimg_error *err);

/* Resolve "2", "resin-boot", "flash-rootA" (label or GPT name) or a role alias
 * ("boot", "rootA", "rootB", "state", "data"). Fails with BIMG_E_NOT_FOUND. */
int bimg_image_find_part(struct bimg_image *img, const char *spec,
                         const struct bimg_part **ret_part, struct bimg_error *err);

const char *bimg_role_name(enum bimg_role role);     /* "boot", "rootA", ... or "" */
const char *bimg_fskind_name(enum bimg_fskind kind); /* "vfat", "ext", "luks", ... */

/* ---- filesystems ------------------------------------------------------- */

struct bimg_fs;

struct bimg_stat {
        bool is_dir;
        bool is_symlink;
        uint64_t size;
        int64_t mtime;          /* seconds since the epoch (FAT: local time taken as UTC) */
        uint32_t mode;          /* POSIX mode bits; FAT reports 0755 dirs, 0644 files */
};

/* Called once per directory entry ("." and ".." are skipped); non-zero stops. */
typedef int (*bimg_dirent_fn)(const char *name, const struct bimg_stat *st, void *data);

/* The filesystem on a partition, opened on first use and cached by the image
 * (borrowed: do not close it). Fails with BIMG_E_UNSUPPORTED for LUKS, unknown
 * or damaged filesystems. A read-only image gives a read-only filesystem. */
int bimg_image_fs(struct bimg_image *img, const struct bimg_part *part,
                  struct bimg_fs **ret_fs, struct bimg_error *err);

/* Paths are absolute inside the filesystem; "..", "*?[]\" (FAT) are refused.
 * A missing path fails with BIMG_E_NOT_FOUND. */
int bimg_fs_list(struct bimg_fs *fs, const char *dir, bimg_dirent_fn fn, void *data,
                 struct bimg_error *err);
int bimg_fs_stat(struct bimg_fs *fs, const char *path, struct bimg_stat *ret_st,
                 struct bimg_error *err);
int bimg_fs_read_to_fd(struct bimg_fs *fs, const char *path, int fd, struct bimg_error *err);
/* Read a whole file into memory, failing (BIMG_E_INVALID) past max_size bytes.
 * *ret_data is NUL-terminated and yours to free(). */
int bimg_fs_read_alloc(struct bimg_fs *fs, const char *path, size_t max_size,
                       char **ret_data, size_t *ret_size, struct bimg_error *err);
/* Create or replace a file from a host file (an absolute path). */
int bimg_fs_write_from_file(struct bimg_fs *fs, const char *host_path, const char *path,
                            struct bimg_error *err);
int bimg_fs_mkdir(struct bimg_fs *fs, const char *path, struct bimg_error *err);
/* Remove a file, or a directory (recursive: with everything in it). */
int bimg_fs_remove(struct bimg_fs *fs, const char *path, bool recursive,
                   struct bimg_error *err);
int bimg_fs_free_space(struct bimg_fs *fs, uint64_t *ret_bytes, struct bimg_error *err);
const char *bimg_fs_type(const struct bimg_fs *fs);   /* "vfat" or "ext4" */

/* ---- balenaOS versions ------------------------------------------------- */

/* X.Y.Z[-betaN][+revN | _revN][.dev|.prod], optional leading "v" (not semver:
 * +revN orders, X.Y.Z < X.Y.Z+rev1 < X.Y.Z+rev2, and X.Y.Z-beta1 < X.Y.Z). */
struct bimg_version {
        unsigned long major, minor, patch;
        bool has_pre;           /* a pre-release label such as "beta1" */
        char pre[32];           /* label without the '-' */
        unsigned long rev;      /* 0 when absent */
        char variant[8];        /* "dev", "prod" or "" */
};

int bimg_version_parse(const char *text, struct bimg_version *ret_v, struct bimg_error *err);
/* <0, 0, >0 like strcmp; the variant does not take part. */
int bimg_version_compare(const struct bimg_version *a, const struct bimg_version *b);
/* Parse both and compare; an unparsable string sorts before any valid one. */
int bimg_version_cmp(const char *a, const char *b);

/* ---- os-release -------------------------------------------------------- */

struct bimg_osrelease;

/* Parse os-release text (KEY=value lines, shell-style quoting). */
int bimg_osrelease_parse(const char *text, size_t len, struct bimg_osrelease **ret_osr,
                         struct bimg_error *err);
void bimg_osrelease_free(struct bimg_osrelease *osr);
/* Value of KEY, unquoted and unescaped, or NULL (borrowed). */
const char *bimg_osrelease_get(const struct bimg_osrelease *osr, const char *key);

/* ---- inspection (balena-img info) -------------------------------------- */

#define BIMG_MAX_CONFIG_KEYS 64

struct bimg_config_key {
        char key[64];           /* top-level or dotted ("os.sshKeys") */
        char summary[96];       /* short value; secrets masked ("abcd…(32 chars)") */
        bool secret;
};

struct bimg_info {
        const struct bimg_part *boot;   /* NULL if none found */
        char device_type[64];           /* device-type.json slug */
        char device_type_name[96];
        char arch[24];
        char os_version[64];            /* os-release VERSION ("" if unknown) */
        char os_version_source[160];    /* where it came from, e.g. "boot:/os-release" */
        char meta_balena_version[32];
        char board_rev[48];
        char yocto_codename[32];
        char machine[48];               /* os-release MACHINE (Yocto machine) */
        char variant[16];               /* "development", "production" or "" (unified) */
        bool is_flasher;
        bool is_signed;
        bool development_mode;
        char development_mode_source[48];   /* config.json or os-release VARIANT */
        bool has_boot_free;
        uint64_t boot_free;
        char build_timestamp[32];       /* /etc/timestamp ("" if not found) */
        char storage_driver[16];        /* "overlay2", "aufs", "" (plain rootfs) */
        char active_root[8];            /* "rootA" or "rootB" */
        char active_root_source[32];    /* "default", "resinOS_uEnv.txt", "grubenv", "bootenv" */
        bool has_config;
        bool config_valid;              /* config.json parsed as an object */
        char config_error[160];
        size_t n_config_keys;
        struct bimg_config_key config_keys[BIMG_MAX_CONFIG_KEYS];
};

/* Gather everything `info` shows. Soft problems (no os-release found) leave
 * fields empty; hard ones (no boot partition, LUKS boot) fail. */
int bimg_inspect(struct bimg_image *img, struct bimg_info *ret_info, struct bimg_error *err);

const char *bimg_library_version(void);

#ifdef __cplusplus
}
#endif
#endif
