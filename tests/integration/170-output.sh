#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# -o OUT: the input is only read, OUT is a sparse copy with the change (from a
# dense input too), written under a temporary name and renamed when complete;
# failures leave no OUT.
. "$top_srcdir/tests/lib.sh"
img=$(fixture mbr-v8)
before=$(checksum "$img")
ssh-keygen -q -t ed25519 -N '' -C 'out@test' -f "$WORK/k" </dev/null
no_leftovers() {
        leftovers=$(find "$WORK" -name '*.balena-img-*')
        [ -z "$leftovers" ] || fail "temporary files left: $leftovers"
        ok
}

# configure -o: the result is in OUT (read back with mtools), the input is unchanged
expect_exit 0 "$BALENA_IMG" configure "$img" -o "$WORK/out.img" --hostname out-1 \
        --ssh-key "$WORK/k.pub"
expect_eq "$(checksum "$img")" "$before" "input after configure -o"
expect_eq "$(m mtype "$WORK/out.img" 1 ::/config.json | jq -r .hostname)" "out-1" "OUT hostname"
expect_eq "$(m mtype "$WORK/out.img" 1 ::/config.json | jq -r '.os.sshKeys[0]')" \
        "$(cat "$WORK/k.pub")" "OUT ssh key"
expect_eq "$(stat -c %s "$WORK/out.img")" "$(stat -c %s "$img")" "OUT apparent size"
# sparse: OUT occupies about what the input does, not its 1.7 GB
in_kib=$(du -k "$img" | cut -f1); out_kib=$(du -k "$WORK/out.img" | cut -f1)
[ "$out_kib" -le $((in_kib + 2048)) ] || fail "OUT is not sparse: $out_kib KiB for $in_kib KiB"
ok
# everything but the boot partition is the same bytes as the input
boot_end=$(( $(part_offset "$img" 1) + $(part_size "$img" 1) ))
expect_eq "$(tail -c +$((boot_end + 1)) "$WORK/out.img" | cksum)" \
        "$(tail -c +$((boot_end + 1)) "$img" | cksum)" "OUT after the boot partition"
fsck_fat "$WORK/out.img" 1
no_leftovers

# the same change into an existing OUT replaces it
expect_exit 0 "$BALENA_IMG" configure "$img" -o "$WORK/out.img" --hostname out-2
expect_eq "$(m mtype "$WORK/out.img" 1 ::/config.json | jq -r .hostname)" "out-2" "OUT replaced"

# a failure leaves no OUT and no temporary file
expect_exit 6 "$BALENA_IMG" configure "$img" -o "$WORK/bad.img" --hostname 'bad host'
expect_one_line_error
[ ! -e "$WORK/bad.img" ] || fail "a failed configure left an output"
ok
no_leftovers
expect_exit 3 "$BALENA_IMG" configure "$img" -o "$WORK/nodir/x.img" --hostname x
expect_one_line_error
expect_exit 3 "$BALENA_IMG" cp "$WORK/k.pub" "$img:boot/nodir/k.pub" -o "$WORK/bad2.img"
[ ! -e "$WORK/bad2.img" ] || fail "a failed cp left an output"
ok
no_leftovers

# OUT may not be the input
expect_exit 2 "$BALENA_IMG" configure "$img" -o "$img" --hostname x
expect_one_line_error
expect_stderr "input image itself"
ln -s "$img" "$WORK/link.img"
expect_exit 2 "$BALENA_IMG" configure "$img" -o "$WORK/link.img" --hostname x

# every changing command takes -o
expect_exit 0 "$BALENA_IMG" config set "$img" country=DE -o "$WORK/c.img"
expect_eq "$(m mtype "$WORK/c.img" 1 ::/config.json | jq -r .country)" "DE" "config set -o"
expect_exit 0 "$BALENA_IMG" cp "$WORK/k.pub" "$img:data/k.pub" -o "$WORK/cp.img"
expect_eq "$(dbg "$WORK/cp.img" 6 'cat /k.pub')" "$(cat "$WORK/k.pub")" "cp -o into ext4"
fsck_ext "$WORK/cp.img" 6
expect_exit 0 "$BALENA_IMG" rm "$img:boot/os-release" -o "$WORK/rm.img"
if m mdir "$WORK/rm.img" 1 ::/os-release >/dev/null 2>&1; then fail "rm -o kept the file"; fi
ok
expect_exit 0 "$BALENA_IMG" mkdir "$img:boot/newdir" -o "$WORK/mkdir.img"
m mdir "$WORK/mkdir.img" 1 ::/newdir >/dev/null 2>&1 || fail "mkdir -o made no folder"
ok
m mtype "$img" 1 ::/splash/balena-logo.png >"$WORK/logo.png"
expect_exit 0 "$BALENA_IMG" splash "$img" "$WORK/logo.png" -o "$WORK/splash.img"
expect_stdout "unchanged"
expect_exit 2 "$BALENA_IMG" splash "$img" --extract "$WORK/x.png" -o "$WORK/s2.img"
expect_exit 2 "$BALENA_IMG" cp "$img:boot/config.json" "$WORK/cfg.json" -o "$WORK/s3.img"
expect_eq "$(checksum "$img")" "$before" "input after every -o command"

# an input stored dense (every byte written, as unzip leaves a released image):
# OUT is still sparse, and byte for byte the OUT of its sparse twin
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
cp --sparse=never "$img" "$WORK/dense.img"
expect_exit 0 "$BALENA_IMG" configure "$WORK/dense.img" -o "$WORK/dense-out.img" \
        --hostname out-dense
expect_exit 0 "$BALENA_IMG" configure "$img" -o "$WORK/twin-out.img" --hostname out-dense
cmp -s "$WORK/dense-out.img" "$WORK/twin-out.img" || fail "the OUT of a dense input differs"
ok
dense_kib=$(du -k "$WORK/dense-out.img" | cut -f1)
[ "$dense_kib" -le $((in_kib + 2048)) ] ||
        fail "OUT of a dense input is not sparse: $dense_kib KiB for $in_kib KiB"
ok
unset SOURCE_DATE_EPOCH
no_leftovers
done_testing
