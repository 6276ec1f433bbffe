#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# cp into and out of the ext4 partitions (rootA, state, data) of mbr-v8 and
# gpt-fat32, read back with debugfs (cat, stat, dump, rdump): bytes, sizes,
# inode kept on replace, old blocks freed, e2fsck -fn clean, the filesystem
# features kept, and no byte outside the written partition changed; and on a
# rootA stored dense, with old bytes in its free blocks.
. "$top_srcdir/tests/lib.sh"

for t in jq sfdisk debugfs dumpe2fs e2fsck; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

cache_part_tables

B=$BALENA_IMG
H=$WORK/host
OUT=$WORK/out
MiB=1048576

# part_sum IMG N: sha256 of partition N's bytes (the snapshots cover the rest)
part_sum() {
        dd if="$1" bs=4M iflag=skip_bytes,count_bytes skip="$(part_offset "$1" "$2")" \
                count="$(part_size "$1" "$2")" status=none | sha_in
}

# pick FILE LABEL...: the snapshot lines of these labels, in their order
pick() {
        f_=$1
        shift
        grep -E "^($(echo "$@" | tr ' ' '|')) " "$f_" || true
}

# sb IMG N FIELD: a superblock field as dumpe2fs -h prints it
sb() {
        dumpe2fs -h "$1?offset=$(part_offset "$1" "$2")" 2>/dev/null | sed -n "s/^$3: *//p"
}
# stat_field IMG N PATH FIELD: Size, Type or Inode from debugfs stat
stat_field() {
        dbg "$1" "$2" "stat \"$3\"" | sed -n "s/.*$4: *\([^ ]*\).*/\1/p" | head -n1
}
# ext_is IMG N PATH HOSTFILE [dump]: debugfs cat (and dump, when asked) give HOSTFILE's
# bytes, and stat says a regular file of its size
ext_is() {
        dbg "$1" "$2" "cat \"$3\"" >"$WORK/cat.out"
        cmp -s "$WORK/cat.out" "$4" ||
                fail "debugfs cat $3: $(wc -c <"$WORK/cat.out") bytes that differ from '$4'"
        ok
        if [ "${5:-}" = dump ]; then
                rm -f "$WORK/dump.out"
                dbg "$1" "$2" "dump \"$3\" $WORK/dump.out" >/dev/null
                cmp -s "$WORK/dump.out" "$4" || fail "debugfs dump $3 differs from '$4'"
                ok
        fi
        dbg "$1" "$2" "stat \"$3\"" >"$WORK/stat.out"
        expect_eq "$(sed -n 's/.*Type: *\([^ ]*\).*/\1/p' "$WORK/stat.out" | head -n1) $(sed -n 's/.*Size: *\([^ ]*\).*/\1/p' "$WORK/stat.out" | head -n1)" \
                "regular $(wc -c <"$4" | tr -d ' ')" "type and size of $3"
}
# ext_tree_is IMG N PATH HOSTDIR: debugfs rdump of PATH equals HOSTDIR, names and bytes
ext_tree_is() {
        rm -rf "$WORK/rdump" && mkdir "$WORK/rdump"
        dbg "$1" "$2" "rdump \"$3\" $WORK/rdump" >/dev/null
        diff -r "$WORK/rdump/$(basename "$3")" "$4" >"$WORK/diff.out" 2>&1 ||
                fail "$3 differs from '$4': $(head -c 500 "$WORK/diff.out")"
        ok
}

mkdir -p "$H" "$OUT"
printf 'hello from the host\n' >"$H/new.txt"
printf 'a name with spaces\n' >"$H/my file name.txt"
printf 'caf\303\251\n' >"$H/café.txt"
head -c $((20 * MiB)) /dev/urandom >"$H/20m.bin"
head -c $((3 * MiB + 12345)) /dev/urandom >"$H/3m.bin"
: >"$H/empty"
mkdir -p "$H/tree/a/b/c" "$H/tree/Mixed Case Dir" "$H/tree/x" "$H/tree/Ünïcödé"
printf 'one\n' >"$H/tree/a/one"
printf 'two\n' >"$H/tree/a/b/c/two"
: >"$H/tree/a/b/empty"
printf 'three\n' >"$H/tree/x/Three.TXT"
head -c 300000 /dev/urandom >"$H/tree/Mixed Case Dir/blob.bin"
printf 'unicode\n' >"$H/tree/Ünïcödé/Grüße.txt"

# ext_suite IMG FIXTURE ROLE: every kind of cp into and out of one ext4 partition
ext_suite() {
        img=$1 f=$2 role=$3
        p=$(fact "$f" "${role}_part")
        features=$(sb "$img" "$p" "Filesystem features")
        bs=$(sb "$img" "$p" "Block size")
        free=$(($(sb "$img" "$p" "Free blocks") * bs))

        # a new file, by role and by number
        expect_exit 0 "$B" cp "$H/new.txt" "$img:$role/new.txt"
        quiet
        ext_is "$img" "$p" /new.txt "$H/new.txt" dump
        expect_exit 0 "$B" cp "$H/my file name.txt" "$img:$p/"
        ext_is "$img" "$p" "/my file name.txt" "$H/my file name.txt"
        expect_exit 0 "$B" cp "$H/café.txt" "$img:$role/"
        ext_is "$img" "$p" "/café.txt" "$H/café.txt" dump
        expect_exit 0 "$B" cp "$H/empty" "$img:$role/"
        ext_is "$img" "$p" /empty "$H/empty"

        # a big file (20 MiB where it fits; the 20 MiB state of gpt-fat32 refuses it)
        if [ "$free" -gt $((24 * MiB)) ]; then
                big=$H/20m.bin
        else
                big=$H/3m.bin
                before=$(part_sum "$img" "$p")
                expect_exit 5 "$B" cp "$H/20m.bin" "$img:$role/"
                expect_one_line_error
                expect_stderr "not enough space"
                expect_eq "$(part_sum "$img" "$p")" "$before" "$f $role: partition after a refused big cp"
        fi
        expect_exit 0 "$B" cp "$big" "$img:$role/big.bin"
        quiet
        ext_is "$img" "$p" /big.bin "$big" dump
        fsck_ext "$img" "$p"

        # replace it by a small file: same inode, new bytes and size, its blocks freed
        ino=$(stat_field "$img" "$p" /big.bin Inode)
        free1=$(sb "$img" "$p" "Free blocks")
        expect_exit 0 "$B" cp "$H/new.txt" "$img:$role/big.bin"
        quiet
        ext_is "$img" "$p" /big.bin "$H/new.txt"
        expect_eq "$(stat_field "$img" "$p" /big.bin Inode)" "$ino" "$f $role: inode of the replaced file"
        free2=$(sb "$img" "$p" "Free blocks")
        [ $((free2 - free1)) -ge $(($(wc -c <"$big") / bs - 1)) ] ||
                fail "$f $role: replacing $(wc -c <"$big") bytes by 20 bytes freed only $((free2 - free1)) blocks of $bs"
        ok
        fsck_ext "$img" "$p"
        # and back to big
        expect_exit 0 "$B" cp "$big" "$img:$role/big.bin"
        ext_is "$img" "$p" /big.bin "$big"
        [ "$(sb "$img" "$p" "Free blocks")" -eq "$free1" ] ||
                fail "$f $role: free blocks $(sb "$img" "$p" "Free blocks") after writing it again, $free1 the first time"
        ok

        # into an existing folder, with and without a trailing '/'
        expect_exit 0 "$B" cp "$H/new.txt" "$img:$role/lost+found"
        ext_is "$img" "$p" /lost+found/new.txt "$H/new.txt"
        expect_exit 0 "$B" cp "$H/my file name.txt" "$img:$role/lost+found/"
        ext_is "$img" "$p" "/lost+found/my file name.txt" "$H/my file name.txt"

        # a tree with nested folders: as a new folder, then into an existing one
        expect_exit 0 "$B" cp -r "$H/tree" "$img:$role/"
        quiet
        ext_tree_is "$img" "$p" /tree "$H/tree"
        expect_exit 0 "$B" cp -r "$H/tree" "$img:$role/Tree Copy"
        ext_tree_is "$img" "$p" "/Tree Copy" "$H/tree"
        expect_exit 0 "$B" cp -r "$H/tree/x" "$img:$role/Tree Copy"
        ext_tree_is "$img" "$p" "/Tree Copy/x" "$H/tree/x"
        expect_eq "$(stat_field "$img" "$p" "/Tree Copy/a/b" Type)" directory "$f $role: copied folder type"

        # out of the image: files and a folder with nested folders (the partition stays
        # byte-identical; the snapshots in the caller check every other byte)
        rm -rf "$OUT" && mkdir -p "$OUT"
        before=$(part_sum "$img" "$p")
        expect_exit 0 "$B" cp "$img:$role/big.bin" "$OUT/"
        quiet
        cmp -s "$OUT/big.bin" "$big" || fail "$f $role: big.bin copied out differs"
        ok
        expect_exit 0 "$B" cp "$img:$role/café.txt" "$OUT/copy of café.txt"
        cmp -s "$OUT/copy of café.txt" "$H/café.txt" || fail "$f $role: café.txt copied out differs"
        ok
        expect_exit 0 "$B" cp "$img:$role/empty" "$OUT/"
        [ -f "$OUT/empty" ] && [ ! -s "$OUT/empty" ] || fail "$f $role: empty copied out"
        ok
        expect_exit 2 "$B" cp "$img:$role/tree" "$OUT/"
        expect_one_line_error
        [ ! -e "$OUT/tree" ] || fail "$f $role: cp of a folder without -r created it"
        ok
        expect_exit 0 "$B" cp -r "$img:$role/tree" "$OUT/"
        quiet
        diff -r "$OUT/tree" "$H/tree" >"$WORK/diff.out" 2>&1 ||
                fail "$f $role: tree copied out differs: $(head -c 500 "$WORK/diff.out")"
        ok
        [ -z "$(find "$OUT" -name '*.bimg-*')" ] || fail "$f $role: temporary files left in $OUT"
        ok
        expect_eq "$(part_sum "$img" "$p")" "$before" "$f $role: partition after copies out"

        # a folder without -r: usage error, nothing written
        expect_exit 2 "$B" cp "$H/tree" "$img:$role/tree3"
        expect_one_line_error
        expect_eq "$(part_sum "$img" "$p")" "$before" "$f $role: partition after cp of a folder without -r"

        fsck_ext "$img" "$p"
        expect_eq "$(sb "$img" "$p" "Filesystem features")" "$features" "$f $role: features"
}

for f in mbr-v8 gpt-fat32; do
        img=$(fixture "$f")
        rp=$(fact "$f" rootA_part)
        for feature in metadata_csum 64bit orphan_file; do
                sb "$img" "$rp" "Filesystem features" | grep -qw "$feature" ||
                        fail "$f rootA lacks $feature before the test"
        done
        # Every stretch is hashed at the start and the end; the partitions written
        # (rootA, state, data) also after each role, so a write that strays into
        # another of them is caught in the role that did it.
        written="p$rp p$(fact "$f" state_part) p$(fact "$f" data_part)"
        # shellcheck disable=SC2086
        snapshot "$img" >"$WORK/snap.start"
        # shellcheck disable=SC2086
        pick "$WORK/snap.start" $written >"$WORK/snap.prev"
        for role in rootA state data; do
                ext_suite "$img" "$f" "$role"
                # shellcheck disable=SC2086
                snapshot "$img" $written >"$WORK/snap.cur"
                only_changed "$WORK/snap.prev" "$WORK/snap.cur" "$(fact "$f" "${role}_part")"
                mv "$WORK/snap.cur" "$WORK/snap.prev"
        done
        grep -vE "^($(echo "$written" | tr ' ' '|')) " "$WORK/snap.start" >"$WORK/snap.unwritten"
        # shellcheck disable=SC2046
        snapshot "$img" $(cut -d' ' -f1 "$WORK/snap.unwritten" | sort -u) >"$WORK/snap.end"
        cmp -s "$WORK/snap.unwritten" "$WORK/snap.end" ||
                fail "$f: bytes outside rootA, state and data changed: $(diff "$WORK/snap.unwritten" "$WORK/snap.end" | sed -n 's/^> \([^ ]* [^ ]*\).*/\1/p' | tr '\n' ' ')"
        ok
        for feature in metadata_csum 64bit orphan_file; do
                sb "$img" "$rp" "Filesystem features" | grep -qw "$feature" ||
                        fail "$f rootA lost $feature"
                ok
        done
        rm -f "$img"
done

# rootA stored dense (free space as data, as unzip leaves a released image), its
# free blocks holding old bytes: a change leaves them out of its staged copy, and
# what it writes and every file it does not touch read back right.
img=$(fixture mbr-v8)
rp=$(fact mbr-v8 rootA_part)
head -c 3000000 /dev/urandom >"$H/dense-garbage"
head -c 300000 /dev/urandom >"$H/dense-new"
head -c 70000 /dev/urandom >"$H/dense-kept"
expect_exit 0 "$B" cp "$H/dense-kept" "$img:rootA/dense-kept.bin"
expect_exit 0 "$B" cp "$H/dense-garbage" "$img:rootA/dense-garbage.bin"
expect_exit 0 "$B" rm "$img:rootA/dense-garbage.bin"       # its blocks: free, not zero
dd if="$img" of="$img" bs=512 skip="$(($(part_offset "$img" "$rp") / 512))" \
        seek="$(($(part_offset "$img" "$rp") / 512))" count="$(($(part_size "$img" "$rp") / 512))" \
        conv=notrunc status=none
expect_exit 0 "$B" cp "$H/dense-new" "$img:rootA/dense-new.bin"
expect_exit 0 "$B" cp "$H/dense-kept" "$img:rootA/etc/dense-small.bin"
for pair in dense-new.bin:dense-new dense-kept.bin:dense-kept etc/dense-small.bin:dense-kept; do
        dbg "$img" "$rp" "cat /${pair%%:*}" >"$WORK/got"
        cmp -s "$WORK/got" "$H/${pair#*:}" || fail "dense rootA: /${pair%%:*} differs"
        ok
done
fsck_ext "$img" "$rp"
rm -f "$img"

done_testing
