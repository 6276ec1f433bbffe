#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# -o OUT on another filesystem (a tmpfs) is a plain copy, and on a full one a
# clear error that leaves no partial output and the input untouched.
. "$top_srcdir/tests/lib.sh"
export SOURCE_DATE_EPOCH=1700000000
img=$(fixture mbr-v8)
flasher=$FIXTURES/gpt-flasher.img     # only read; its data (1.2 MB) cannot fit in 1 MiB
mkdir -p "$WORK/big" "$WORK/small"
mount -t tmpfs -o size=200m tmpfs "$WORK/big" 2>/dev/null ||
        skip "cannot mount a tmpfs here (needs root in a namespace that allows it)"
trap 'rc=$?; umount "$WORK/big" "$WORK/small" 2>/dev/null; exit $rc' EXIT
mount -t tmpfs -o size=1m tmpfs "$WORK/small" || fail "second tmpfs"
before=$(checksum "$img")

# another filesystem: copy_file_range cannot cross it, the copy still works
expect_exit 0 "$BALENA_IMG" configure "$img" -o "$WORK/big/out.img" --hostname far
expect_exit 0 "$BALENA_IMG" configure "$img" -o "$WORK/near.img" --hostname far
cmp -s "$WORK/big/out.img" "$WORK/near.img" || fail "the copy on a tmpfs differs from one beside the input"
ok
[ "$(du -k "$WORK/big/out.img" | cut -f1)" -le $(($(du -k "$img" | cut -f1) + 1024)) ] ||
        fail "the tmpfs copy is not sparse: $(du -k "$WORK/big/out.img")"
ok

# a full filesystem: one line naming OUT, exit 5, nothing left, input untouched
expect_exit 5 "$BALENA_IMG" configure "$img" -o "$WORK/small/out.img" --hostname full
expect_one_line_error
expect_stderr "'$WORK/small/out.img': No space left on device"
expect_eq "$(ls -A "$WORK/small" | wc -l)" 0 "files left on the full tmpfs"
expect_eq "$(checksum "$img")" "$before" "input after a full disk"
# the same for a compressed OUT (the raw copy is what does not fit)
expect_exit 5 "$BALENA_IMG" configure "$flasher" -o "$WORK/small/out.img.zst" --hostname full
expect_one_line_error
expect_stderr "No space left on device"
expect_eq "$(ls -A "$WORK/small" | wc -l)" 0 "files left after a compressed output failed"

# a batch writing onto it: every device fails cleanly, the results say so
ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
cat >"$WORK/fleet.json" <<JSON
{ "images": { "raspberrypi4-64": "$img" }, "output": "small/{hostname}.img",
  "settings": { "ssh-key": ["key.pub"] },
  "devices": [ { "hostname": "a" }, { "hostname": "b" } ] }
JSON
expect_exit 5 "$BALENA_IMG" batch "$WORK/fleet.json" --keep-going --no-checksum
expect_eq "$(jq .failed "$WORK/fleet.results.json")" 2 "failed devices on a full disk"
expect_eq "$(ls -A "$WORK/small" | wc -l)" 0 "files left by the batch"
expect_eq "$(checksum "$img")" "$before" "input after the batch"
trap - EXIT
umount "$WORK/big" "$WORK/small"        # before done_testing removes $WORK
done_testing
