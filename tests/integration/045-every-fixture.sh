#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every command on every readable fixture: info, ls, cat, cp both ways, mkdir,
# rm, on the boot partition (FAT) and on one ext4 partition. Each write is read
# back with mtools or debugfs, and fsck.fat -n / e2fsck -fn stay clean.
. "$top_srcdir/tests/lib.sh"

printf 'every fixture\n' >"$WORK/note.txt"
head -c 70000 /dev/urandom >"$WORK/blob.bin"
tested=0

for name in $(fixture_names); do
        [ -z "$(fact "$name" bad)" ] || continue
        img=$(fixture "$name")
        boot=$(fact "$name" boot_part)

        expect_exit 0 "$BALENA_IMG" info "$img"
        expect_exit 0 "$BALENA_IMG" info --json "$img"
        expect_eq "$(jq -r .boot_partition "$WORK/stdout")" "$boot" "$name boot partition"

        # boot (FAT): ls and cat agree with mtools
        expect_exit 0 "$BALENA_IMG" ls "$img:boot/"
        m mdir "$img" "$boot" -b ::/ | sed 's|^::/||' | sort >"$WORK/want"
        sort "$WORK/stdout" >"$WORK/got"
        cmp -s "$WORK/got" "$WORK/want" || fail "$name: ls boot differs from mdir -b"
        ok
        expect_exit 0 "$BALENA_IMG" cat "$img:boot/config.json"
        m mtype "$img" "$boot" ::/config.json >"$WORK/want"
        cmp -s "$WORK/stdout" "$WORK/want" || fail "$name: cat config.json differs from mtype"
        ok

        # boot (FAT): mkdir, cp in, cp out, rm, each checked with mtools
        expect_exit 0 "$BALENA_IMG" mkdir "$img:boot/balena-img-test"
        expect_exit 0 "$BALENA_IMG" cp "$WORK/blob.bin" "$img:boot/balena-img-test/Blob Data.bin"
        m mtype "$img" "$boot" "::/balena-img-test/Blob Data.bin" >"$WORK/back"
        cmp -s "$WORK/back" "$WORK/blob.bin" || fail "$name: FAT copy-in read back differs"
        ok
        expect_exit 0 "$BALENA_IMG" cp "$img:boot/balena-img-test/Blob Data.bin" "$WORK/out.bin"
        cmp -s "$WORK/out.bin" "$WORK/blob.bin" || fail "$name: FAT copy-out differs"
        ok
        expect_exit 0 "$BALENA_IMG" rm -r "$img:boot/balena-img-test"
        if m mdir "$img" "$boot" ::/balena-img-test >/dev/null 2>&1; then
                fail "$name: removed folder still listed by mdir"
        fi
        ok
        fsck_fat "$img" "$boot"

        # one ext4 partition: data if it has a filesystem, else rootA (flashers)
        "$BALENA_IMG" info --json "$img" >"$WORK/info.json"
        ext=$(jq -r '[.partitions[] | select(.filesystem == "ext4")] |
                     (map(select(.role == "data")) + map(select(.role == "rootA")))[0].number' \
                "$WORK/info.json")
        [ "$ext" != null ] || fail "$name: no ext4 partition found"
        expect_exit 0 "$BALENA_IMG" mkdir -p "$img:$ext/balena-img-test/sub"
        expect_exit 0 "$BALENA_IMG" cp "$WORK/note.txt" "$img:$ext/balena-img-test/sub/"
        expect_eq "$(dbg "$img" "$ext" 'cat /balena-img-test/sub/note.txt')" "every fixture" \
                "$name: ext4 copy-in read back with debugfs"
        expect_exit 0 "$BALENA_IMG" ls -l "$img:$ext/balena-img-test/sub"
        expect_stdout "note.txt"
        expect_exit 0 "$BALENA_IMG" cp -r "$img:$ext/balena-img-test" "$WORK/tree-$name"
        cmp -s "$WORK/tree-$name/sub/note.txt" "$WORK/note.txt" || fail "$name: ext4 copy-out"
        ok
        expect_exit 0 "$BALENA_IMG" rm -r "$img:$ext/balena-img-test"
        dbg "$img" "$ext" 'ls -p /' | grep -q '/balena-img-test/' &&
                fail "$name: removed ext4 folder still there"
        ok
        fsck_ext "$img" "$ext"
        rm -f "$img"
        tested=$((tested + 1))
done
[ "$tested" -ge 6 ] || fail "only $tested fixtures were tested"
ok
done_testing
