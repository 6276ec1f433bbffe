#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An in-place change stages a private copy of the boot partition that leaves
# out the clusters of the files it does not touch (firmware and overlays:
# megabytes that would otherwise be copied and compared on every run). On
# FAT16 (2 KiB clusters, mbr-v8) and FAT32 (512-byte clusters, gpt-fat32),
# with big files in the root and in a folder and 40 small ones in a row, read
# back with mtools: after configure, cp over a small file and over a big one
# (by its long, upper-case and 8.3 name), rm of one and rm -r of its folder,
# every file not changed keeps its bytes (big ones their clusters too, by
# mshowfat), every changed one holds the new bytes, and fsck.fat stays clean.
# The same on images stored dense, with old bytes in free clusters scattered
# between files: free space is left out too, and no neighbour is zeroed.
. "$top_srcdir/tests/lib.sh"

for t in jq sfdisk mdir mtype mcopy mshowfat fsck.fat; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done
need_mkpng
cache_part_tables

B=$BALENA_IMG
H=$WORK/host
mkdir -p "$H"
head -c 2500000 /dev/urandom >"$H/fw1"          # firmware-sized, incompressible
head -c 1500000 /dev/urandom >"$H/fw2"
head -c 1200000 /dev/urandom >"$H/fw3"
head -c 3000000 /dev/urandom >"$H/new"
mkdir -p "$H/overlays"                          # many small files, written in a row
i=0
while [ $i -lt 40 ]; do
        head -c 30000 /dev/urandom >"$H/overlays/ov-$i.dtbo"
        i=$((i + 1))
done
"$MKPNG" "$H/logo.png" 64 64

# holds IMG PATH HOSTFILE: mtype reads HOSTFILE's bytes at PATH
holds() {
        m mtype "$1" 1 "::$2" >"$WORK/got" 2>"$WORK/mtype.err" ||
                fail "mtype ::$2: $(cat "$WORK/mtype.err")"
        cmp -s "$WORK/got" "$3" || fail "::$2 does not hold the bytes of $(basename "$3")"
        ok
}
# clusters IMG PATH: where mshowfat says PATH's data lies
clusters() { m mshowfat "$1" 1 "::$2"; }
# overlays_kept IMG: every small file of /overlays-test holds its bytes
overlays_kept() {
        for f in "$H"/overlays/*; do
                holds "$1" "/overlays-test/$(basename "$f")" "$f"
        done
}
# kept IMG PATH HOSTFILE CLUSTERS: untouched, in place and intact
kept() {
        holds "$1" "$2" "$3"
        expect_eq "$(clusters "$1" "$2")" "$4" "clusters of ::$2"
}

for name in mbr-v8 gpt-fat32; do
        TEST_NAME="235 $name"
        img=$(fixture "$name")
        m mmd "$img" 1 ::/firmware
        m mcopy "$img" 1 "$H/fw1" ::/firmware-big.bin
        m mcopy "$img" 1 "$H/fw2" ::/start4x.elf
        m mcopy "$img" 1 "$H/fw3" ::/firmware/overlay-blob.bin
        m mmd "$img" 1 ::/overlays-test
        m mcopy "$img" 1 "$H"/overlays/* ::/overlays-test/
        c1=$(clusters "$img" /firmware-big.bin)
        c2=$(clusters "$img" /start4x.elf)
        c3=$(clusters "$img" /firmware/overlay-blob.bin)

        # configure writes beside the firmware: all of it stays as it was
        run "$B" configure "$img" --hostname fw-test --splash "$H/logo.png" --country DE
        [ "$RC" = 0 ] || fail "configure: $(cat "$WORK/stderr")"
        m mtype "$img" 1 ::/config.json | jq -e '.hostname == "fw-test"' >/dev/null ||
                fail "config.json lacks the new hostname"
        ok
        holds "$img" /splash/balena-logo.png "$H/logo.png"
        kept "$img" /firmware-big.bin "$H/fw1" "$c1"
        kept "$img" /start4x.elf "$H/fw2" "$c2"
        kept "$img" /firmware/overlay-blob.bin "$H/fw3" "$c3"
        overlays_kept "$img"
        fsck_fat "$img" 1

        # one small file written over, among the others
        run "$B" cp "$H/fw3" "$img:boot/overlays-test/ov-7.dtbo"
        [ "$RC" = 0 ] || fail "cp to ov-7.dtbo: $(cat "$WORK/stderr")"
        ok
        holds "$img" /overlays-test/ov-7.dtbo "$H/fw3"
        run "$B" cp "$H/overlays/ov-7.dtbo" "$img:boot/overlays-test/ov-7.dtbo"
        overlays_kept "$img"
        fsck_fat "$img" 1

        # a big file written over, by each of its names: the new bytes land
        for case in /start4x.elf:/start4x.elf:fw2 /FIRMWARE-BIG.BIN:/firmware-big.bin:fw1 \
                    /FIRMWA~1.BIN:/firmware-big.bin:fw1; do
                target=${case%%:*} home=${case#*:} orig=${case##*:}
                home=${home%:*}
                run "$B" cp "$H/new" "$img:boot$target"
                [ "$RC" = 0 ] || fail "cp to $target: $(cat "$WORK/stderr")"
                ok
                holds "$img" "$target" "$H/new"
                kept "$img" /firmware/overlay-blob.bin "$H/fw3" "$c3"
                fsck_fat "$img" 1
                # put the original back under its own name (written by its 8.3
                # name, the entry took that name)
                run "$B" rm "$img:boot$target"
                run "$B" cp "$H/$orig" "$img:boot$home"
                holds "$img" "$home" "$H/$orig"
        done

        # rm of one file, then rm -r of the folder holding the other
        run "$B" rm "$img:boot/start4x.elf"
        [ "$RC" = 0 ] || fail "rm: $(cat "$WORK/stderr")"
        [ "$(m mdir "$img" 1 -b ::/ | grep -ci start4x)" = 0 ] || fail "start4x.elf is still there"
        ok
        kept "$img" /firmware/overlay-blob.bin "$H/fw3" "$c3"
        fsck_fat "$img" 1
        run "$B" rm -r "$img:boot/firmware"
        [ "$RC" = 0 ] || fail "rm -r: $(cat "$WORK/stderr")"
        ! m mdir "$img" 1 ::/firmware >/dev/null 2>&1 || fail "/firmware is still there"
        ok
        holds "$img" /firmware-big.bin "$H/fw1"
        fsck_fat "$img" 1

        # the freed clusters take a new big file while an untouched one stays
        c1=$(clusters "$img" /firmware-big.bin)
        run "$B" cp "$H/new" "$img:boot/refill.bin"
        [ "$RC" = 0 ] || fail "cp refill: $(cat "$WORK/stderr")"
        ok
        holds "$img" /refill.bin "$H/new"
        kept "$img" /firmware-big.bin "$H/fw1" "$c1"
        fsck_fat "$img" 1
done

# An image stored dense (free space as data, as unzip leaves it), its free
# clusters full of old bytes and scattered between files that stay: a change
# leaves free space out of its copy too, and what mtools writes into free
# clusters never zeroes a neighbour (FAT32 here has 512-byte clusters, eight
# to a 4 KiB block of the copy).
i=0
while [ $i -lt 48 ]; do
        head -c 1500 /dev/urandom >"$H/small-$i"
        i=$((i + 1))
done
head -c 600000 /dev/urandom >"$H/garbage"
for name in mbr-v8 gpt-fat32; do
        TEST_NAME="235 dense $name"
        img=$WORK/dense-$name.img
        cp --sparse=never "$(fixture "$name")" "$img"
        m mcopy "$img" 1 "$H/fw1" ::/firmware-big.bin
        m mmd "$img" 1 ::/smalls
        m mcopy "$img" 1 "$H/garbage" ::/garbage.bin
        m mcopy "$img" 1 "$H"/small-* ::/smalls/
        m mdel "$img" 1 ::/garbage.bin
        i=0
        while [ $i -lt 48 ]; do         # every other one goes: free clusters between
                m mdel "$img" 1 "::/smalls/small-$i"
                i=$((i + 2))
        done
        c1=$(clusters "$img" /firmware-big.bin)
        run "$B" configure "$img" --hostname dense-test --splash "$H/logo.png"
        [ "$RC" = 0 ] || fail "configure: $(cat "$WORK/stderr")"
        ok
        run "$B" cp "$H/fw3" "$img:boot/smalls/new.bin"
        [ "$RC" = 0 ] || fail "cp: $(cat "$WORK/stderr")"
        ok
        m mtype "$img" 1 ::/config.json | jq -e '.hostname == "dense-test"' >/dev/null ||
                fail "config.json lacks the new hostname"
        ok
        holds "$img" /splash/balena-logo.png "$H/logo.png"
        holds "$img" /smalls/new.bin "$H/fw3"
        kept "$img" /firmware-big.bin "$H/fw1" "$c1"
        i=1
        while [ $i -lt 48 ]; do
                holds "$img" "/smalls/small-$i" "$H/small-$i"
                i=$((i + 2))
        done
        fsck_fat "$img" 1
        rm -f "$img"
done

TEST_NAME=235-firmware-left-out
done_testing
