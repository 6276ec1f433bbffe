#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# --bmap writes OUT.bmap that bmaptool (bmap-tools, not our code) accepts: its
# copy equals the image, only data blocks are mapped, and tampering is caught.
. "$top_srcdir/tests/lib.sh"
command -v bmaptool >/dev/null 2>&1 || skip "bmaptool (bmap-tools) is missing"
img=$(fixture mbr-v8)
before=$(checksum "$img")

expect_exit 0 "$BALENA_IMG" configure "$img" -o "$WORK/out.img" --bmap --hostname mapped
[ -s "$WORK/out.img.bmap" ] || fail "no out.img.bmap"
ok
expect_eq "$(checksum "$img")" "$before" "input after configure -o --bmap"
run bmaptool copy --bmap "$WORK/out.img.bmap" "$WORK/out.img" "$WORK/copy.img"
[ "$RC" -eq 0 ] || fail "bmaptool copy refused the bmap: $(tail -3 "$WORK/stderr")"
ok
cmp -s "$WORK/out.img" "$WORK/copy.img" || fail "bmaptool's copy differs from the image"
ok
# the map covers the data blocks only: about what the sparse file holds on disk
mapped=$(sed -n 's:.*<MappedBlocksCount> *\([0-9]*\) *<.*:\1:p' "$WORK/out.img.bmap")
total=$(sed -n 's:.*<BlocksCount> *\([0-9]*\) *<.*:\1:p' "$WORK/out.img.bmap")
expect_eq "$total" "$(( ($(stat -c %s "$WORK/out.img") + 4095) / 4096 ))" "BlocksCount"
on_disk=$(( $(du -k "$WORK/out.img" | cut -f1) / 4 ))
[ "$mapped" -le $((on_disk + 16)) ] && [ "$mapped" -ge $((on_disk / 2)) ] ||
        fail "MappedBlocksCount $mapped for $on_disk blocks on disk"
ok
rm -f "$WORK/copy.img"

# a changed range checksum is caught by bmaptool's own file checksum
sed 's/<Range chksum="./<Range chksum="0/' "$WORK/out.img.bmap" >"$WORK/bad.bmap"
run bmaptool copy --bmap "$WORK/bad.bmap" "$WORK/out.img" "$WORK/copy2.img"
[ "$RC" -ne 0 ] || fail "bmaptool accepted a tampered bmap"
ok
grep -q "checksum mismatch" "$WORK/stderr" || fail "not a checksum error: $(tail -2 "$WORK/stderr")"
ok

# in place: IMAGE.bmap, regenerated to match the changed image
expect_exit 0 "$BALENA_IMG" config set "$img" hostname=again --bmap
run bmaptool copy --bmap "$img.bmap" "$img" "$WORK/copy3.img"
[ "$RC" -eq 0 ] && cmp -s "$img" "$WORK/copy3.img" || fail "in-place bmap does not copy the image"
ok
rm -f "$WORK/copy3.img"
# --bmap goes with a change only
expect_exit 2 "$BALENA_IMG" splash "$img" --extract "$WORK/x.png" --bmap
expect_one_line_error
done_testing
