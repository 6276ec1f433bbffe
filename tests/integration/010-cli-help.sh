#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# --help, --version and the man page stay in step with the command table.
. "$top_srcdir/tests/lib.sh"
man=$top_srcdir/man/balena-img.1

expect_exit 0 "$BALENA_IMG" --help
expect_stdout "Usage: balena-img COMMAND"
commands=$(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' "$WORK/stdout")
[ -n "$commands" ] || fail "--help lists no commands"
for c in $commands; do
        expect_exit 0 "$BALENA_IMG" "$c" --help
        expect_stdout "Usage: balena-img $c"
        expect_exit 0 "$BALENA_IMG" help "$c"
        expect_stdout "Usage: balena-img $c"
        grep -q "^\.BI\{0,1\} \"\{0,1\}$c " "$man" || fail "man page has no entry for '$c'"
        ok
        grep -q "$c" "$top_srcdir/README.md" || fail "README does not mention '$c'"
        ok
done

version=$(sed -n 's/^AC_INIT(\[balena-img\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
expect_exit 0 "$BALENA_IMG" --version
expect_eq "$(cat "$WORK/stdout")" "balena-img $version" "--version"
grep -q "balena-img $version" "$man" || fail "man page header does not say version $version"
ok

# every exit status in the public header is documented in the man page and --help
for code in $(sed -n 's/^ *BIMG_[A-Z_]* = \([0-9]\),.*/\1/p' "$top_srcdir/include/balena-img.h"); do
        sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man" | grep -q "^\.B $code$" ||
                fail "man page EXIT STATUS lacks $code"
        ok
        "$BALENA_IMG" --help | grep -q "$code " || fail "--help does not explain exit $code"
        ok
done

# the man page renders without warnings
if command -v groff >/dev/null 2>&1; then
        groff -man -ww -z "$man" 2>"$WORK/groff.err"
        [ ! -s "$WORK/groff.err" ] || fail "groff warnings: $(cat "$WORK/groff.err")"
        ok
fi

# usage errors: exit 2, one line
expect_exit 2 "$BALENA_IMG" frobnicate
expect_one_line_error
expect_stderr "unknown command 'frobnicate'"
expect_exit 2 "$BALENA_IMG" info
expect_one_line_error
expect_exit 2 "$BALENA_IMG" info --bogus x.img
expect_one_line_error
expect_stderr "unknown option '--bogus'"
expect_exit 2 "$BALENA_IMG" ls
expect_one_line_error
expect_exit 2 "$BALENA_IMG"
# configure with nothing to set is a mistake worth saying, not a silent success
expect_exit 2 "$BALENA_IMG" configure "$WORK/none.img"
expect_one_line_error
expect_stderr "no settings given"
expect_exit 2 "$BALENA_IMG" configure --dry-run "$WORK/none.img"
expect_one_line_error
done_testing
