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
        /* with WRITE: the caller holds the only copy (a fresh output), so changes go
         * straight in; without it they are staged and committed through a rollback
         * journal beside the image */
        BIMG_OPEN_PRIVATE = 2,
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
 * fail (or wait, bimg_set_lock_wait) when the other kind holds it. A change left
 * unfinished by a killed process (a rollback journal beside the image) is undone
 * first, by readers too. On success *ret_img is yours:
 * bimg_image_close() frees it and everything obtained from it. */
int bimg_image_open(const char *path, unsigned flags, struct bimg_image **ret_img,
                    struct bimg_error *err);
/* The same, for a file whose messages should name another path (the temporary
 * copy behind an output image names the output). */
int bimg_image_open_as(const char *path, const char *name, unsigned flags,
                       struct bimg_image **ret_img, struct bimg_error *err);
void bimg_image_close(struct bimg_image *img);
/* Opens (of every image, in this process) wait up to seconds for another
 * balena-img's lock before failing; 0, the default, fails at once. */
void bimg_set_lock_wait(unsigned seconds);

/* Long steps (copying an image, compressing, unpacking) report how far they
 * are: what ("copying"), bytes done of total; done == total ends the step.
 * One reporter per process, NULL for none (the default); the CLI draws a bar. */
typedef void (*bimg_progress_fn)(const char *what, uint64_t done, uint64_t total, void *data);
void bimg_set_progress(bimg_progress_fn fn, void *data);

/* ---- output images (-o OUT) --------------------------------------------- */

/* Copy input, sparse, to a temporary file beside output (*ret_temp, borrowed),
 * for the command to open and change; finish syncs it and renames it to output
 * (compressing it first when output ends in .gz, .xz, .zst or .zip), abort
 * removes it. Output may not be the input itself. */
struct bimg_output;
int bimg_output_begin(const char *input, const char *output, struct bimg_output **ret_out,
                      const char **ret_temp, struct bimg_error *err);
int bimg_output_finish(struct bimg_output *out, struct bimg_error *err);
void bimg_output_abort(struct bimg_output *out);   /* NULL is fine */
/* The file starts like a .gz, .xz, .zst or .zip (what bimg_image_open unpacks). */
bool bimg_file_is_compressed(const char *path);
/* The raw image behind an output, before finish (a block map describes it). */
const char *bimg_output_raw_path(const struct bimg_output *out);

/* Write a block map of image (bmaptool format 2.0, SHA-256 per range of data
 * blocks) to bmap_path, replacing it whole. */
int bimg_write_bmap(const char *image, const char *bmap_path, struct bimg_error *err);
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
/* Like bimg_fs_stat, but a missing path is an answer, not an error: 1 when path
 * exists (*ret_st filled), 0 when it does not, -1 on any other failure. */
int bimg_fs_lookup(struct bimg_fs *fs, const char *path, struct bimg_stat *ret_st,
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
/* A hint: the small files among paths (at most 16) are about to be read; FAT reads
 * them all with one tool run. Missing or unreadable ones are left to the reads. */
void bimg_fs_prefetch(struct bimg_fs *fs, const char *const *paths, size_t n);
const char *bimg_fs_type(const struct bimg_fs *fs);   /* "vfat" or "ext4" */

/* Check that path could be written in this filesystem (FAT: no * ? [ ] \ : " < > |),
 * without touching the image. */
int bimg_fs_check_path(struct bimg_fs *fs, const char *path, struct bimg_error *err);

/* ---- changes: the one write path ---------------------------------------- */

/* Every change to an image is staged in a transaction and applied by one
 * commit: all inputs are read and checked when staged, the whole plan is
 * checked against the image before the first write, and a file whose content
 * would not change is not written (so running a command twice changes nothing
 * more). */
struct bimg_txn;

enum bimg_change_kind {
        BIMG_CHANGE_ADD,        /* a new file */
        BIMG_CHANGE_REPLACE,    /* a file whose content changes */
        BIMG_CHANGE_UNCHANGED,  /* a file that already has this content */
        BIMG_CHANGE_MKDIR,      /* a new folder */
        BIMG_CHANGE_REMOVE,     /* a file or folder removed */
};

typedef void (*bimg_change_fn)(enum bimg_change_kind kind, const struct bimg_part *part,
                               const char *path, uint64_t size, void *data);

/* The image must be editable (bimg_image_check_editable); to commit, it must also
 * be open for writing (a read-only image is enough for a plan). */
int bimg_txn_begin(struct bimg_image *img, struct bimg_txn **ret_txn, struct bimg_error *err);
void bimg_txn_free(struct bimg_txn *txn);
/* A hint: part will be changed (not needed for correctness). Work a commit
 * in place will need (FAT: where the files sit) starts now, in the background;
 * the first op staged on a partition gives the same hint. Nothing on a plan-only
 * or -o image. */
void bimg_txn_expect(struct bimg_txn *txn, const struct bimg_part *part);
/* Write len bytes (copied now) to path. The parent folder must exist or be
 * staged with bimg_txn_mkdir first. */
int bimg_txn_put(struct bimg_txn *txn, const struct bimg_part *part, const char *path,
                 const void *data, size_t len, struct bimg_error *err);
/* Write a host file (checked readable now, copied at commit). */
int bimg_txn_put_file(struct bimg_txn *txn, const struct bimg_part *part, const char *path,
                      const char *host_path, struct bimg_error *err);
/* Create a folder and its missing parents; an existing folder is fine. */
int bimg_txn_mkdir(struct bimg_txn *txn, const struct bimg_part *part, const char *path,
                   struct bimg_error *err);
/* Remove a file, or a folder (recursive: with everything in it). */
int bimg_txn_remove(struct bimg_txn *txn, const struct bimg_part *part, const char *path,
                    bool recursive, struct bimg_error *err);
/* Check the plan against the image and report each change; writes nothing. */
int bimg_txn_plan(struct bimg_txn *txn, bimg_change_fn fn, void *data, struct bimg_error *err);
/* Check the plan, then apply it. In place it is all or nothing, even when the
 * process is killed; a BIMG_OPEN_PRIVATE copy that fails is to be thrown away.
 * On success fn (may be NULL) hears of each change made. */
int bimg_txn_commit(struct bimg_txn *txn, bimg_change_fn fn, void *data, struct bimg_error *err);

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

/* ---- device types -------------------------------------------------------- */

/* One balena device type, from the table built into the tool (data/device-types.json,
 * facts from balena's public contracts). */
struct bimg_device_type {
        char slug[64];
        char name[96];
        char arch[16];
        char boot[16];          /* default boot media: sdcard, internal, image */
        char flash_protocol[32];        /* a vendor flashing tool, or "" */
        bool flasher;           /* its published image is normally a flasher */
        bool private_type;      /* not public on balenaCloud */
        char partition_table[8];        /* of its image: "mbr" or "gpt" */
        char aliases[128];      /* older slugs, space-separated */
};

/* The whole table; *ret is yours to free(). */
int bimg_device_types(struct bimg_device_type **ret, size_t *ret_n, struct bimg_error *err);

/* The type a slug or alias names, or BIMG_E_INVALID saying which known slugs
 * are closest to it. */
int bimg_device_type_find(const char *slug, struct bimg_device_type *ret,
                          struct bimg_error *err);

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

/* ---- configure --------------------------------------------------------- */

#define BIMG_TRI_KEEP (-1)      /* for the on/off options: leave the key as it is */

struct bimg_str_list {
        const char *const *items;
        size_t n;
};

struct bimg_configure_opts {
        const char *config_file;        /* merged into config.json ... */
        bool replace_config;            /* ... or replacing it */
        struct bimg_str_list sets;      /* "KEY=VALUE", dotted keys */
        struct bimg_str_list unsets;    /* "KEY" */
        const char *hostname;
        struct bimg_str_list ssh_key_files;     /* .pub files, several keys each */
        struct bimg_str_list udev_rules;        /* "FILE.rules" or "NAME=FILE" */
        int development_mode;           /* BIMG_TRI_KEEP, 0 or 1 */
        int persistent_logging;
        int random_mac_scan;
        const char *country;
        const char *ntp_servers;
        const char *dns_servers;
        const char *root_ca_file;       /* PEM; stored as base64 in balenaRootCA */
        const char *connectivity_uri;
        const char *connectivity_interval;
        const char *connectivity_response;
        const char *device_type;        /* assert the image is of this type */
        const char *splash_file;        /* PNG */
        /* NetworkManager profiles */
        const char *wifi_ssid;
        const char *wifi_key;           /* NULL: an open network */
        bool wifi_hidden;
        const char *static_ip;          /* ADDR/PREFIX: for Wi-Fi if wifi_ssid, else Ethernet */
        const char *gateway;
        const char *dns;
        const char *apn;                /* cellular */
        const char *apn_user;
        const char *apn_password;
        struct bimg_str_list system_connections;        /* keyfiles copied as they are */
        const char *proxy_file;         /* redsocks.conf */
        const char *no_proxy_file;
};

void bimg_configure_opts_init(struct bimg_configure_opts *opts);
/* Set an option by its configure name ("hostname", "ssh-key", "no-dev"): value
 * is borrowed (it must outlive opts' use); NULL means "given without a value"
 * (true, for the on/off options, which also take true/false/yes/no/1/0). A
 * repeatable option adds one item per call. Unknown names fail with BIMG_E_USAGE. */
int bimg_configure_opts_set(struct bimg_configure_opts *opts, const char *name,
                            const char *value, struct bimg_error *err);
/* Whether name is a configure option, and whether its value names a host file. */
bool bimg_configure_option_known(const char *name, bool *ret_is_file);
/* Free the lists bimg_configure_opts_set grew (not the borrowed strings). */
void bimg_configure_opts_release(struct bimg_configure_opts *opts);

/* Validate every input, build the new config.json and files, and stage them in
 * a transaction on the image's boot partition (flash-boot on flashers). With
 * dry_run nothing is written: fn hears of each change and *ret_diff (yours to
 * free(), may be NULL) holds the unified diff of config.json. */
int bimg_configure(struct bimg_image *img, const struct bimg_configure_opts *opts, bool dry_run,
                   bimg_change_fn fn, void *data, char **ret_diff, struct bimg_error *err);

/* The splash logo alone (also what --splash does): PNG checked, name chosen by
 * the OS version, boot-partition headroom for OS updates kept. */
int bimg_set_splash(struct bimg_image *img, const char *png_file, bool dry_run,
                    bimg_change_fn fn, void *data, struct bimg_error *err);

/* Read the current splash logo to a host file. */
int bimg_get_splash(struct bimg_image *img, const char *out_file, struct bimg_error *err);

/* ---- config.json editing (balena-img config) ---------------------------- */

/* config.json of the image (pretty, as stored) into *ret (yours to free()). */
int bimg_config_read(struct bimg_image *img, char **ret_text, size_t *ret_len,
                     struct bimg_error *err);
/* One key as text (strings bare, anything else JSON). */
int bimg_config_get(struct bimg_image *img, const char *key, char **ret_text,
                    struct bimg_error *err);
/* Check a config.json text against the schema (is_flasher: installer keys ok). */
int bimg_config_check_text(const char *text, size_t len, const char *origin, bool is_flasher,
                           bimg_warn_fn warn, void *warn_data, struct bimg_error *err);

/* ---- batch provisioning (balena-img batch) -------------------------------- */

/* A manifest of devices, each made into its own output image from the base
 * image of its device type (format: balena-img(1), BATCH MANIFEST). */
struct bimg_batch;

struct bimg_batch_opts {
        unsigned jobs;                  /* worker processes; 0 and 1 mean one at a time */
        unsigned shard_index;           /* 1..shard_count: make every shard_count-th device */
        unsigned shard_count;           /* 0: no sharding */
        bool keep_going;                /* a failed device does not stop the others */
        bool checksum;                  /* SHA-256 of each output file */
};

enum bimg_batch_state {
        BIMG_BATCH_PENDING,             /* not made (yet): the run stopped first */
        BIMG_BATCH_OK,
        BIMG_BATCH_FAILED,              /* error says why; no output under its name */
};

struct bimg_batch_device {
        size_t index;                   /* 1-based position in the manifest */
        const char *origin;             /* "batch.json: devices[0]", "devices.csv:2" */
        const char *device_type;
        const char *hostname;           /* NULL when not set */
        const char *uuid;               /* NULL when not set */
        bool uuid_generated;            /* uuid was "generate" */
        const char *output;             /* the output's path */
        const char *bmap;               /* OUTPUT.bmap, or NULL */
        enum bimg_batch_state state;
        char sha256[65];                /* of the output file, "" without checksums */
        uint64_t size;                  /* apparent size */
        uint64_t disk_bytes;            /* space it takes (sparse files take less) */
        struct bimg_error error;
};

/* Read a manifest, generate the uuids asked for and name every output; checks
 * the manifest's shape and names, not yet the inputs. *ret is yours. */
int bimg_batch_load(const char *manifest, const struct bimg_batch_opts *opts,
                    struct bimg_batch **ret, struct bimg_error *err);
void bimg_batch_free(struct bimg_batch *b);

/* The devices of this shard, in manifest order (borrowed from b). */
size_t bimg_batch_count(const struct bimg_batch *b);
const struct bimg_batch_device *bimg_batch_device(const struct bimg_batch *b, size_t i);
const char *bimg_batch_manifest_path(const struct bimg_batch *b);

/* Check every input of every device (of all shards) against its base image,
 * writing nothing. With keep_going an invalid device is marked failed and the
 * rest go on; otherwise the first problem fails the call. */
int bimg_batch_validate(struct bimg_batch *b, bimg_warn_fn warn, void *data,
                        struct bimg_error *err);

/* Make this shard's outputs (after bimg_batch_validate), with opts->jobs
 * workers; fn hears of each device as it is done. Fails (err: the first
 * failure) when any device failed. */
typedef void (*bimg_batch_progress_fn)(const struct bimg_batch_device *d, size_t done,
                                       size_t total, void *data);
int bimg_batch_run(struct bimg_batch *b, bimg_batch_progress_fn fn, void *data,
                   struct bimg_error *err);

/* ---- verification (balena-img verify) ----------------------------------- */

enum bimg_check_status {
        BIMG_CHECK_OK,
        BIMG_CHECK_WARN,        /* works, but something deserves a look */
        BIMG_CHECK_FAIL,
        BIMG_CHECK_SKIPPED,     /* could not be checked; message says why */
};

/* One check of one subject: ("filesystem", "partition 2 'resin-rootA'", fail,
 * "e2fsck -fn: ..."). */
struct bimg_check {
        char name[32];          /* partition-table, filesystem, boot-partition, config.json,
                                 * headroom, network, splash, deep */
        char subject[160];      /* what was checked: a partition, a file in one */
        enum bimg_check_status status;
        char message[512];      /* one line */
};

struct bimg_verify_opts {
        bool deep;              /* also mount every filesystem in a real kernel (libguestfs) */
};

struct bimg_verify_report {
        struct bimg_check *checks;
        size_t n_checks;
        size_t counts[4];       /* by enum bimg_check_status */
        bool deep_skipped;      /* deep was asked for but libguestfs could not run */
};

/* Check an image read-only: partition table, every filesystem (fsck.fat -n,
 * e2fsck -fn), config.json against the schema, boot-partition headroom for OS
 * updates, NetworkManager profiles, splash logo; with opts->deep, a libguestfs
 * mount of each filesystem. Problems found are checks in *ret (yours:
 * bimg_verify_report_free); -1 only when the image cannot be read at all. The
 * image is never written. */
int bimg_verify(const char *path, const struct bimg_verify_opts *opts,
                struct bimg_verify_report **ret, struct bimg_error *err);
void bimg_verify_report_free(struct bimg_verify_report *report);
const char *bimg_check_status_name(enum bimg_check_status status);  /* "ok", "warn", ... */

const char *bimg_library_version(void);

#ifdef __cplusplus
}
#endif
#endif
