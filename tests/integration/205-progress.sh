#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A progress bar on stderr for steps over a second, only on a terminal (script(1)
# gives the command one), never with --quiet and never on stdout.
. "$top_srcdir/tests/lib.sh"
command -v script >/dev/null 2>&1 || skip "script (bsdutils) is missing"
command -v xz >/dev/null 2>&1 || skip "xz (xz-utils) is missing"
img=$(fixture gpt-flasher)
cd "$WORK"

# a quick step draws nothing, even on a terminal
script -qec "'$BALENA_IMG' configure '$img' -o '$WORK/fast.img' --hostname f" fast.log >/dev/null
[ -f fast.img ] || fail "no fast.img"
ok
! grep -q '%' fast.log || fail "a bar for a step under a second: $(cat -v fast.log)"
ok
# BALENA_IMG_PROGRESS_DELAY=0 draws at once, so the test does not hang on timing
export BALENA_IMG_PROGRESS_DELAY=0
script -qec "'$BALENA_IMG' configure '$img' -o '$WORK/a.img.xz' --hostname a" tty.log >/dev/null
[ -f a.img.xz ] || fail "no a.img.xz"
ok
grep -q 'compressing \[#*\.*\] *[0-9]*%' tty.log || fail "no progress bar on the terminal: $(cat -v tty.log | head -c 400)"
ok
# the bar is cleared at the end: the last thing on the line is the erase
tr '\r' '\n' <tty.log | grep -q "^$(printf '\033')\[K$" || fail "the bar was not cleared"
ok
# --quiet: nothing of it
script -qec "'$BALENA_IMG' configure '$img' -o '$WORK/b.img.xz' --hostname b --quiet" quiet.log >/dev/null
[ -f b.img.xz ] || fail "no b.img.xz"
ok
! grep -q 'compressing' quiet.log || fail "--quiet still drew a bar"
ok
# not a terminal: stderr stays empty
expect_exit 0 "$BALENA_IMG" configure "$img" -o "$WORK/c.img.xz" --hostname c
[ ! -s "$WORK/stderr" ] || fail "stderr without a terminal: $(cat "$WORK/stderr")"
ok
# stdout carries only the JSON even when stderr is a terminal
script -qec "'$BALENA_IMG' info --json '$WORK/a.img.xz' >'$WORK/info.json'" info.log >/dev/null
jq -e '.device_type // .device.type // true' info.json >/dev/null || fail "info --json output is not JSON"
ok
! grep -q "$(printf '\033')" info.json || fail "escape codes on stdout"
ok
done_testing
