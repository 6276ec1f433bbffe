#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A change in place reads the boot files it needs (config.json,
# device-type.json, the boot environment) straight from the clusters that
# minfo and mshowfat, run for the staged copy anyway, say they take: no mcopy
# copies them out. Read back with mtools, on FAT16 (2 KiB clusters) and FAT32
# (512-byte clusters): a config.json of many clusters, in two places on FAT16,
# keeps every key it had; device-type.json is read right (--device-type takes
# the image's own type and refuses another, naming the image's); the same in a
# tree deeper than mshowfat's first globs reach; a second run changes nothing;
# fsck.fat stays clean. With strace, the tools a configure runs are counted.
. "$top_srcdir/tests/lib.sh"

for t in jq mtype mcopy mdel mmd mshowfat fsck.fat; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done
cache_part_tables
B=$BALENA_IMG
unset BALENA_IMG

# runs IMG PATH: how many places (cluster runs) PATH's data lies in
runs() { m mshowfat "$1" 1 "::$2" | grep -o '<[0-9-]*>' | wc -l; }

# a config.json of several KiB: its own keys, and keys unknown to balena-img
# (strings, numbers, objects, arrays) that every change must keep
extra='{"blob": [range(300) | "unknown-value-\(.)"], "vendorKey": {"nested": [1, 2.5, null, true]}}'

for name in mbr-v8 gpt-fat32; do
        TEST_NAME="236 $name"
        img=$(fixture "$name")
        slug=$(fact "$name" device_type)
        m mtype "$img" 1 ::/config.json >"$WORK/orig.json"
        jq "$extra + ." "$WORK/orig.json" >"$WORK/big.json"
        # a hole of one cluster before a file that stays: mtools fills the hole
        # first, so the new config.json lies in two places (FAT32 takes the
        # free cluster its info sector names: one place, many clusters)
        printf x >"$WORK/one"
        m mcopy "$img" 1 "$WORK/one" ::/hole.bin
        m mcopy "$img" 1 "$WORK/one" ::/spacer.bin
        m mdel "$img" 1 ::/hole.bin
        m mcopy "$img" 1 -o "$WORK/big.json" ::/config.json
        if [ "$(fact "$name" boot_fat)" = 16 ]; then
                [ "$(runs "$img" /config.json)" -ge 2 ] ||
                        fail "config.json was not split: $(m mshowfat "$img" 1 ::/config.json)"
                ok
        fi

        run "$B" configure "$img" --hostname layout-test --country SE --device-type "$slug"
        [ "$RC" = 0 ] || fail "configure: $(cat "$WORK/stderr")"
        ok
        m mtype "$img" 1 ::/config.json >"$WORK/now.json"
        jq -e --slurpfile was "$WORK/big.json" \
                '. == ($was[0] + {hostname: "layout-test", country: "SE"})' "$WORK/now.json" \
                >/dev/null || fail "config.json lost or changed keys: $(cat "$WORK/now.json")"
        ok

        # another device type: refused, naming the one device-type.json holds
        before=$(imgsum "$img")
        expect_exit 6 "$B" configure "$img" --hostname other --device-type jetson-tx2
        expect_one_line_error
        expect_stderr "is a $slug image"
        expect_eq "$(imgsum "$img")" "$before" "image after the refused configure"

        # the same again changes nothing: what it compares with was read right
        before=$(imgsum "$img")
        run "$B" configure "$img" --hostname layout-test --country SE --device-type "$slug"
        [ "$RC" = 0 ] || fail "second configure: $(cat "$WORK/stderr")"
        expect_eq "$(imgsum "$img")" "$before" "image after the same configure again"
        fsck_fat "$img" 1

        # a folder five levels down: mshowfat is shown every folder by name
        m mmd "$img" 1 ::/l1 ::/l1/l2 ::/l1/l2/l3 ::/l1/l2/l3/l4
        head -c 5000 /dev/urandom >"$WORK/deep.bin"
        m mcopy "$img" 1 "$WORK/deep.bin" ::/l1/l2/l3/l4/deep.bin
        run "$B" configure "$img" --hostname deep-test --device-type "$slug"
        [ "$RC" = 0 ] || fail "configure of the deep tree: $(cat "$WORK/stderr")"
        ok
        m mtype "$img" 1 ::/config.json >"$WORK/now.json"
        jq -e --slurpfile was "$WORK/big.json" \
                '. == ($was[0] + {hostname: "deep-test", country: "SE"})' "$WORK/now.json" \
                >/dev/null || fail "config.json (deep tree) lost or changed keys"
        ok
        m mtype "$img" 1 ::/l1/l2/l3/l4/deep.bin >"$WORK/got"
        cmp -s "$WORK/got" "$WORK/deep.bin" || fail "the deep file changed"
        ok
        fsck_fat "$img" 1
done

# the tools one configure runs: no mcopy besides the one that writes
TEST_NAME="236 tool runs"
if ! command -v strace >/dev/null 2>&1 || ! strace -f -o /dev/null true 2>/dev/null; then
        skip "strace cannot trace here: the tool runs are not counted"
fi
img=$(fixture mbr-v8)
# LeakSanitizer cannot run under ptrace: the sanitized build checks leaks elsewhere
run env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -qq -e trace=execve -o "$WORK/trace" "$B" configure "$img" --hostname count
[ "$RC" = 0 ] || fail "configure under strace: $(cat "$WORK/stderr")"
ok
tools=$(sed -n 's/.*execve("\/usr\/bin\/\(m[a-z]*\)".*/\1/p' "$WORK/trace" | sort | tr '\n' ' ')
expect_eq "$tools" "mcopy mdir minfo mshowfat " "tools run by one configure"

TEST_NAME=236-fat-reads-by-layout
done_testing
