/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img: a command table, and one place that prints errors and picks the exit code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/asan.h"
#include "cli.h"

#define PATH_HELP                                                                          \
        "  IMAGE:PART/PATH  PART is a partition number, a filesystem label or GPT name\n"   \
        "                   (resin-boot, flash-rootA, ...) or a role: boot, rootA, rootB,\n" \
        "                   state, data. PATH is absolute inside the partition.\n"

const struct command commands[] = {
        { "info", "info [IMAGE] [--json]",
          "show the partitions, device type, OS version and configuration of an image",
          "Options:\n"
          "  --json           print one JSON object (documented in balena-img(1))\n",
          cmd_info },
        { "ls", "ls [-l] [--json] IMAGE:PART[/PATH]",
          "list a folder (or name a file) inside a partition",
          "Options:\n"
          "  -l, --long       show type, mode, size and modification time\n"
          "  --json           print a JSON array of entries\n" PATH_HELP,
          cmd_ls },
        { "cat", "cat IMAGE:PART/PATH",
          "print a file from a partition to standard output",
          PATH_HELP,
          cmd_cat },
        { "cp", "cp [-r] SOURCE DEST",
          "copy files into an image, or out of it",
          "One of SOURCE and DEST is IMAGE:PART/PATH, the other a host path. When DEST is\n"
          "an existing folder the copy goes inside it under the source's name.\n\n"
          "Options:\n"
          "  -r, --recursive  copy folders with everything in them\n"
          "  -o, --output OUT copying into an image: write the result to OUT\n"
          "  --bmap           also write OUT.bmap (or IMAGE.bmap) for bmaptool\n" PATH_HELP,
          cmd_cp },
        { "rm", "rm [-r] IMAGE:PART/PATH",
          "remove a file (or, with -r, a folder) from a partition",
          "Options:\n"
          "  -r, --recursive  remove a folder with everything in it\n"
          "  -o, --output OUT write the result to OUT; IMAGE is only read\n"
          "  --bmap           also write OUT.bmap (or IMAGE.bmap) for bmaptool\n" PATH_HELP,
          cmd_rm },
        { "mkdir", "mkdir [-p] IMAGE:PART/PATH",
          "create a folder in a partition",
          "Options:\n"
          "  -p, --parents    create missing parent folders; no error if it exists\n"
          "  -o, --output OUT write the result to OUT; IMAGE is only read\n"
          "  --bmap           also write OUT.bmap (or IMAGE.bmap) for bmaptool\n" PATH_HELP,
          cmd_mkdir },
        { "configure", "configure [IMAGE] [OPTIONS]",
          "put settings, SSH keys, udev rules, network profiles, proxy and splash into an image",
          "Everything is validated before anything is written; keys already in config.json\n"
          "are kept; running the same command twice changes nothing more. IMAGE defaults\n"
          "to $BALENA_IMG. On a flasher image only flash-boot is changed.\n\n"
          "config.json:\n"
          "  --config FILE            merge FILE into config.json\n"
          "  --replace-config         replace config.json with the --config FILE instead\n"
          "  --set KEY=VALUE          set a key (dotted: os.network.wifi.randomMacAddressScan);\n"
          "                           typed by the schema, a JSON literal is accepted\n"
          "  --unset KEY              remove a key\n"
          "  --hostname NAME          hostname (one RFC 1123 label, at most 63 characters)\n"
          "  --ssh-key FILE           add the public keys in FILE to os.sshKeys (repeatable)\n"
          "  --udev-rule [NAME=]FILE  add FILE as os.udevRules.NAME; NAME defaults to the\n"
          "                           file name without .rules (repeatable)\n"
          "  --dev, --no-dev          developmentMode on or off\n"
          "  --persistent-logging, --no-persistent-logging\n"
          "  --country CC             Wi-Fi regulatory country (ISO 3166 alpha-2)\n"
          "  --ntp-servers 'A B'      extra NTP servers, space-separated\n"
          "  --dns-servers 'A B'      extra DNS servers, space-separated, or null for none\n"
          "  --root-ca FILE.pem       balenaRootCA: a CA the device trusts (PEM, base64-stored)\n"
          "  --random-mac-scan, --no-random-mac-scan\n"
          "  --connectivity-uri URL   connectivity check URL (null turns it off)\n"
          "  --connectivity-interval SECONDS\n"
          "  --connectivity-response TEXT\n"
          "  --device-type SLUG       refuse unless the image is of this device type\n\n"
          "NetworkManager profiles (system-connections/):\n"
          "  --wifi-ssid SSID         a Wi-Fi profile (resin-wifi)\n"
          "  --wifi-key PSK           its WPA passphrase (8-63 characters or 64 hex); none:\n"
          "                           an open network\n"
          "  --wifi-hidden            the network does not broadcast its SSID\n"
          "  --static-ip ADDR/PREFIX  static address for the Wi-Fi profile, or without\n"
          "                           --wifi-ssid an Ethernet profile (balena-ethernet)\n"
          "  --gateway ADDR, --dns 'ADDR,ADDR'\n"
          "  --apn APN                a cellular profile (balena-cellular)\n"
          "  --apn-user USER, --apn-password PASSWORD\n"
          "  --system-connection FILE copy a NetworkManager keyfile as it is (repeatable)\n\n"
          "Proxy and splash:\n"
          "  --proxy FILE             system-proxy/redsocks.conf\n"
          "  --no-proxy FILE          system-proxy/no_proxy (addresses not to proxy)\n"
          "  --splash FILE.png        the boot splash logo\n\n"
          "  --dry-run                print the config.json diff and the files that would\n"
          "                           change; write nothing\n"
          "  -o, --output OUT         write the result to OUT (a sparse copy, renamed into\n"
          "                           place when complete); IMAGE is only read\n"
          "  --bmap                   also write OUT.bmap (or IMAGE.bmap) for bmaptool\n",
          cmd_configure },
        { "config", "config show|get|set|unset|validate [IMAGE] ...",
          "read or edit single keys of config.json, or validate one",
          "  config show [IMAGE]                 print config.json\n"
          "  config get [IMAGE] KEY              print one key (strings bare, else JSON)\n"
          "  config set [IMAGE] KEY=VALUE...     set keys, typed by the schema\n"
          "  config unset [IMAGE] KEY...         remove keys\n"
          "  -o, --output OUT                    (set, unset) write the result to OUT\n"
          "  --bmap                              (set, unset) also write OUT.bmap\n"
          "  config validate IMAGE|FILE.json     check against the balenaOS schema\n"
          "IMAGE defaults to $BALENA_IMG.\n",
          cmd_config },
        { "splash", "splash [IMAGE] LOGO.png | splash [IMAGE] --extract OUT.png",
          "replace the boot splash logo, or save the current one",
          "The PNG is fully decoded first. It is written as splash/balena-logo.png (or\n"
          "resin-logo.png before balenaOS 2.53.0), on flash-boot for flasher images, and\n"
          "refused when the boot partition would keep too little room for OS updates.\n\n"
          "Options:\n"
          "  --extract OUT.png        save the current logo instead\n"
          "  --dry-run                say what would change; write nothing\n"
          "  -o, --output OUT         write the result to OUT; IMAGE is only read\n"
          "  --bmap                   also write OUT.bmap (or IMAGE.bmap) for bmaptool\n"
          "IMAGE defaults to $BALENA_IMG.\n",
          cmd_splash },
        { "device-types", "device-types [--json]",
          "list the balena device types the tool knows",
          "IMAGE: plain (an image written to the boot media), flasher (an installer that\n"
          "writes itself to internal storage) or vendor (flashed with a vendor tool).\n"
          "TABLE: the image's partition table, mbr (meta-balena's default) or gpt.\n\n"
          "Options:\n"
          "  --json           print a JSON array\n",
          cmd_device_types },
        { "batch", "batch MANIFEST [-j N] [--shard I/N] [--keep-going] [--results FILE]",
          "make one ready-to-flash image per device of a manifest (CI provisioning)",
          "MANIFEST (JSON) names a base image per device type, settings shared by all\n"
          "devices (any configure option, without '--'), the devices (inline, or a CSV\n"
          "file whose first row names the columns) and an output name pattern with\n"
          "{device_type}, {hostname}, {uuid} and {index}. \"uuid\": \"generate\" makes a\n"
          "fresh 32-hex uuid per device. Relative paths start at the manifest's folder.\n"
          "Every device is checked against its base image before any output is written;\n"
          "each output appears under its name only when complete. The format is in\n"
          "balena-img(1), BATCH MANIFEST.\n\n"
          "Options:\n"
          "  -j, --jobs N     make N images at a time (default 1)\n"
          "  --shard I/N      make only the I-th of N shares (a CI matrix of N jobs)\n"
          "  --keep-going     a failed device does not stop the others (still exit != 0)\n"
          "  --results FILE   write the results here (default MANIFEST.results.json, or\n"
          "                   MANIFEST.results.shard-I-of-N.json)\n"
          "  --no-checksum    skip the SHA-256 of each output (it reads the whole image)\n"
          "  --dry-run        check every device, write no image\n"
          "  --json           print the results JSON instead of one line per device\n",
          cmd_batch },
        { "verify", "verify [IMAGE] [--deep] [--json]",
          "check an image read-only: partition table, filesystems, config.json, updates room",
          "Checks, each reported ok, warn, fail or skipped: the partition table (overlaps,\n"
          "partitions beyond the image or the table's usable area), every filesystem\n"
          "(fsck.fat -n, e2fsck -fn), config.json against the balenaOS schema, free room\n"
          "on the boot partition for OS updates (the largest boot file once more plus\n"
          "512 KiB: less fails, less than twice that warns), NetworkManager profiles\n"
          "(libnm), the proxy files and the splash logo (fully decoded). The image is\n"
          "never written. Exit status 6 when a check fails. IMAGE defaults to $BALENA_IMG.\n\n"
          "Options:\n"
          "  --deep           also mount every filesystem read-only in a real kernel\n"
          "                   (libguestfs, loaded on use; QEMU without KVM unless\n"
          "                   LIBGUESTFS_BACKEND_SETTINGS says otherwise) and list it;\n"
          "                   exit status 4 when libguestfs cannot run\n"
          "  --json           print one JSON object (documented in balena-img(1))\n",
          cmd_verify },
        { NULL, NULL, NULL, NULL, NULL },
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: " PROGRAM " COMMAND [OPTIONS] ARGS...\n\n"
                     "Inspect and customise balenaOS disk images offline: no root, no loop\n"
                     "mounts, no VM, no cloud login.\n\nCommands:\n");
        for (const struct command *c = commands; c->name; c++)
                fprintf(out, "  %-13s %s\n", c->name, c->summary);
        fprintf(out, "\nOptions:\n"
                     "  -h, --help       show this help; '" PROGRAM " COMMAND --help' for one "
                     "command\n"
                     "  -V, --version    show the version\n"
                     "  --quiet          (any command) no progress bar on stderr; it is drawn\n"
                     "                   only on a terminal, for steps over a second\n"
                     "  --wait SECONDS   (any command) wait for another balena-img using the\n"
                     "                   image instead of failing at once\n\n"
                     "Exit status: 0 ok, 1 internal error, 2 usage, 3 not found or not an image,\n"
                     "4 unsupported (LUKS, unknown filesystem), 5 I/O or tool failure, 6 invalid "
                     "value.\nSee balena-img(1).\n");
}

static const struct command *find_command(const char *name)
{
        for (const struct command *c = commands; c->name; c++)
                if (strcmp(c->name, name) == 0)
                        return c;
        return NULL;
}

/* 'cat' into a full disk must exit 5, not 0 (util-linux close_stdout). */
static int flush_stdout_or_fail(void)
{
        bool failed = fflush(stdout) != 0 || ferror(stdout);
        int e = errno;

        if (close(STDOUT_FILENO) != 0 && errno != EBADF) {
                failed = true;
                e = errno;
        }
        if (failed) {
                fprintf(stderr, PROGRAM ": cannot write the output: %s\n", strerror(e));
                return BIMG_E_IO;
        }
        return BIMG_OK;
}

/* The end of a command's run, its output flushed: the exit handlers of the
 * libraries it loaded (GLib's, GnuTLS's and libcrypto's, with libnm) only free
 * memory, in 0.4 ms, so they are skipped; a preload still running just stops.
 * Under AddressSanitizer they run: its leak check is one of them. */
static int leave(int status)
{
        if (!BIMG_ASAN)
                _exit(status);
        return status;
}

int main(int argc, char **argv)
{
        struct bimg_error err = { 0 };
        const struct command *cmd;

        /* libnm initialises GnuTLS itself when it needs it (certificates); loading
         * it otherwise costs GnuTLS's own start-up (about 0.3 ms of CPU) on every
         * run that builds or checks a profile. A value the user set is kept. */
        setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
        if (argc < 2) {
                usage(stderr);
                return BIMG_E_USAGE;
        }
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                usage(stdout);
                return flush_stdout_or_fail();
        }
        if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
                printf(PROGRAM " %s\n", PACKAGE_VERSION);
                return flush_stdout_or_fail();
        }
        if (strcmp(argv[1], "help") == 0 && argc == 3 && find_command(argv[2])) {
                cli_print_help(argv[2]);
                return flush_stdout_or_fail();
        }
        cli_progress_init();
        cmd = find_command(argv[1]);
        if (!cmd) {
                fprintf(stderr, PROGRAM ": unknown command '%s'; try '" PROGRAM " --help'\n",
                        argv[1]);
                return BIMG_E_USAGE;
        }
        if (cmd->run(argc - 1, argv + 1, &err) < 0) {
                fflush(stdout);
                fprintf(stderr, PROGRAM ": %s\n", err.message);
                return leave(err.status != BIMG_OK ? (int)err.status : BIMG_E_FAILURE);
        }
        return leave(flush_stdout_or_fail());
}
