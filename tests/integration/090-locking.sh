#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A writer takes an exclusive lock, readers a shared one: a second writer gets a
# clear error while another process holds the image, and the image is unchanged.
. "$top_srcdir/tests/lib.sh"
command -v flock >/dev/null 2>&1 || skip "flock(1) from util-linux is missing"
img=$(fixture mbr-v8)
echo "x" >"$WORK/x.txt"

# hold a shared lock (a reader) in the background
flock --no-fork -s "$img" sleep 30 &
holder=$!
sleep 0.3
before=$(checksum "$img")
expect_exit 5 "$BALENA_IMG" cp "$WORK/x.txt" "$img:boot/x.txt"
expect_one_line_error
expect_stderr "in use by another balena-img"
expect_eq "$(checksum "$img")" "$before" "image after a refused write"
# readers share
expect_exit 0 "$BALENA_IMG" cat "$img:boot/config.json"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true

# hold an exclusive lock (a writer): readers and writers are both refused
flock --no-fork -x "$img" sleep 30 &
holder=$!
sleep 0.3
expect_exit 5 "$BALENA_IMG" info "$img"
expect_one_line_error
expect_exit 5 "$BALENA_IMG" mkdir "$img:boot/newdir"
expect_one_line_error
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
expect_eq "$(checksum "$img")" "$before" "image after refused commands"

# --wait SECONDS: the second writer waits for the first instead of failing ...
flock --no-fork -x "$img" sleep 1 &
holder=$!
sleep 0.3
expect_exit 0 "$BALENA_IMG" cp --wait 10 "$WORK/x.txt" "$img:boot/waited.txt"
expect_eq "$(m mtype "$img" 1 ::/waited.txt)" "x" "file written after waiting for the lock"
wait "$holder" 2>/dev/null || true
# ... and gives up when the wait is over, writing nothing
flock --no-fork -x "$img" sleep 30 &
holder=$!
sleep 0.3
before=$(checksum "$img")
start=$(date +%s)
expect_exit 5 "$BALENA_IMG" configure "$img" --hostname never --wait 1
expect_one_line_error
expect_stderr "still in use by another balena-img"
[ $(($(date +%s) - start)) -le 5 ] || fail "--wait 1 waited $(($(date +%s) - start)) s"
ok
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
expect_eq "$(checksum "$img")" "$before" "image after --wait ran out"
expect_exit 2 "$BALENA_IMG" info --wait soon "$img"
expect_one_line_error
expect_stderr "--wait 'soon': expected seconds"

# and once the lock is gone the write goes through
expect_exit 0 "$BALENA_IMG" cp "$WORK/x.txt" "$img:boot/x.txt"
expect_eq "$(m mtype "$img" 1 ::/x.txt)" "x" "file written after the lock was released"
done_testing
