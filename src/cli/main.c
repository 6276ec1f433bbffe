/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img: a command table, and one place that prints errors and picks the exit code. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define PATH_HELP                                                                          \
        "  IMAGE:PART/PATH  PART is a partition number, a filesystem label or GPT name\n"   \
        "                   (resin-boot, flash-rootA, ...) or a role: boot, rootA, rootB,\n" \
        "                   state, data. PATH is absolute inside the partition.\n"

const struct command commands[] = {
        { "info", "info IMAGE [--json]",
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
          "  -r, --recursive  copy folders with everything in them\n" PATH_HELP,
          cmd_cp },
        { "rm", "rm [-r] IMAGE:PART/PATH",
          "remove a file (or, with -r, a folder) from a partition",
          "Options:\n"
          "  -r, --recursive  remove a folder with everything in it\n" PATH_HELP,
          cmd_rm },
        { "mkdir", "mkdir [-p] IMAGE:PART/PATH",
          "create a folder in a partition",
          "Options:\n"
          "  -p, --parents    create missing parent folders; no error if it exists\n" PATH_HELP,
          cmd_mkdir },
        { NULL, NULL, NULL, NULL, NULL },
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: " PROGRAM " COMMAND [OPTIONS] ARGS...\n\n"
                     "Inspect and customise balenaOS disk images offline: no root, no loop\n"
                     "mounts, no VM, no cloud login.\n\nCommands:\n");
        for (const struct command *c = commands; c->name; c++)
                fprintf(out, "  %-36s %s\n", c->synopsis, c->summary);
        fprintf(out, "\nOptions:\n"
                     "  -h, --help       show this help; '" PROGRAM " COMMAND --help' for one "
                     "command\n"
                     "  -V, --version    show the version\n\n"
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

int main(int argc, char **argv)
{
        struct bimg_error err = { 0 };
        const struct command *cmd;

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
        cmd = find_command(argv[1]);
        if (!cmd) {
                fprintf(stderr, PROGRAM ": unknown command '%s'; try '" PROGRAM " --help'\n",
                        argv[1]);
                return BIMG_E_USAGE;
        }
        if (cmd->run(argc - 1, argv + 1, &err) < 0) {
                fflush(stdout);
                fprintf(stderr, PROGRAM ": %s\n", err.message);
                return err.status != BIMG_OK ? (int)err.status : BIMG_E_FAILURE;
        }
        return flush_stdout_or_fail();
}
