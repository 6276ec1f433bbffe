#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mkdir and rm on FAT (checked with mdir) and ext4 (checked with debugfs), on
# legacy-2.7 and gpt-boot12: new, existing, nested and missing folders; files,
# empty and full folders, -r, '/', missing paths. A refused command leaves the
# partition byte-identical, fsck stays clean, nothing outside the partition
# changes, and the free space comes back after rm.
. "$top_srcdir/tests/lib.sh"

for t in jq sfdisk mdir mtype debugfs dumpe2fs e2fsck fsck.fat; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

cache_part_tables

B=$BALENA_IMG
H=$WORK/host
MiB=1048576

# psum: sha256 of the bytes of the partition under test ($img, $poff, $psize)
psum() {
        dd if="$img" bs=4M iflag=skip_bytes,count_bytes skip="$poff" count="$psize" status=none |
                sha_in
}
# refused CODE TEXT CMD...: exits CODE with a one-line error holding TEXT, and the
# partition ($img, $p) stays byte-identical
refused() {
        code=$1 text=$2
        shift 2
        sum=$(psum)
        expect_exit "$code" "$@"
        expect_one_line_error
        expect_stderr "$text"
        expect_eq "$(psum)" "$sum" "partition $p after refused '$*'"
}
# A check whose failure must not hide the ones after it: recorded, reported at the end.
deferred_eq() {
        [ "$1" = "$2" ] || echo "$3: got '$1', want '$2'" >>"$WORK/deferred"
        ok
}

# What is at PATH in partition $p of $img: dir, file, link or none; by mdir (FAT) or
# debugfs (ext4), never by us.
kind() {
        if [ "$fs" = fat ]; then
                m mdir "$img" "$p" -b "::$(dirname "$1")/" >"$WORK/mdir.out" 2>/dev/null || true
                if grep -qxF "::$1/" "$WORK/mdir.out"; then echo dir
                elif grep -qxF "::$1" "$WORK/mdir.out"; then echo file
                elif grep -qixF -e "::$1" -e "::$1/" "$WORK/mdir.out"; then echo other-case
                else echo none
                fi
        else
                t=$(dbg "$img" "$p" "stat \"$1\"" | sed -n 's/.*Type: *\([^ ]*\).*/\1/p' | head -n1)
                case $t in
                directory) echo dir ;;
                regular) echo file ;;
                symlink) echo link ;;
                "") echo none ;;
                *) echo "$t" ;;
                esac
        fi
}
is() { expect_eq "$(kind "$2")" "$1" "$what: '$2'"; }
# every_path: all paths below / as the reference tool lists them, sorted
every_path() {
        if [ "$fs" = fat ]; then
                m mdir "$img" "$p" -b -s ::/ | sed -n 's|^::||p' | sort
        else
                rm -rf "$WORK/rd" && mkdir "$WORK/rd"
                dbg "$img" "$p" "rdump / $WORK/rd" >/dev/null
                (cd "$WORK/rd" && find . -mindepth 1) | sort
        fi
}
# free_bytes: the partition's free space by the reference tools
free_bytes() {
        if [ "$fs" = fat ]; then
                m mdir "$img" "$p" ::/ | sed -n 's/ bytes free$//p' | tr -d ' '
        else
                dumpe2fs -h "$img?offset=$(part_offset "$img" "$p")" 2>/dev/null |
                        awk -F: '/^Free blocks:/ { f = $2 } /^Block size:/ { b = $2 } END { print f * b }'
        fi
}
free_inodes() {
        dumpe2fs -h "$img?offset=$(part_offset "$img" "$p")" 2>/dev/null | sed -n 's/^Free inodes: *//p'
}
fsck_part() { if [ "$fs" = fat ]; then fsck_fat "$img" "$p"; else fsck_ext "$img" "$p"; fi; }

mkdir -p "$H/tree/a/b/c" "$H/tree/Mixed Dir/inner" "$H/tree/empty dir"
printf 'one\n' >"$H/tree/a/one"
printf 'two\n' >"$H/tree/a/b/c/two"
printf 'inner\n' >"$H/tree/Mixed Dir/inner/File.Name.TXT"
printf 'victim\n' >"$H/victim.txt"
head -c $((10 * MiB)) /dev/urandom >"$H/10m.bin"

# suite FIXTURE SPEC-PART N KIND(fat|ext4) EXISTING-FILE
suite() {
        f=$1 part=$2 p=$3 fs=$4 existing=$5
        what="$f $part"
        img=$WORK/$f.img
        at="$img:$part"
        poff=$(part_offset "$img" "$p") psize=$(part_size "$img" "$p")
        snapshot "$img" >"$WORK/snap.before"
        is file "$existing"

        # --- mkdir ---------------------------------------------------------------
        expect_exit 0 "$B" mkdir "$at/newdir"
        quiet
        is dir /newdir
        expect_exit 0 "$B" mkdir "$at/Mixed Case Folder"
        is dir "/Mixed Case Folder"
        refused 6 "already exists" "$B" mkdir "$at/newdir"
        refused 6 "already exists" "$B" mkdir "$at$existing"
        refused 6 "already exists" "$B" mkdir "$at/"
        refused 3 "does not exist" "$B" mkdir "$at/missing/child"
        is none /missing
        refused 3 "does not exist" "$B" mkdir "$at/missing/deeper/child"
        refused 6 "$existing" "$B" mkdir -p "$at$existing/sub"
        expect_exit 0 "$B" mkdir -p "$at/p1/p2/p3"
        quiet
        is dir /p1
        is dir /p1/p2
        is dir /p1/p2/p3
        # -p on what exists: fine, and nothing is written
        sum=$(psum)
        expect_exit 0 "$B" mkdir -p "$at/p1/p2/p3"
        quiet
        expect_exit 0 "$B" mkdir -p "$at/p1"
        expect_exit 0 "$B" mkdir -p "$at/"
        expect_eq "$(psum)" "$sum" "$what: partition after mkdir -p of existing folders"
        expect_exit 0 "$B" mkdir -p "$at/p1/p2/q3/q4"
        is dir /p1/p2/q3/q4
        is dir /p1/p2/p3
        fsck_part

        # --- rm --------------------------------------------------------------------
        expect_exit 0 "$B" cp "$H/victim.txt" "$at/victim.txt"
        expect_exit 0 "$B" cp -r "$H/tree" "$at/"
        is file /victim.txt
        is file "/tree/Mixed Dir/inner/File.Name.TXT"
        expect_exit 0 "$B" rm "$at/victim.txt"
        quiet
        is none /victim.txt
        # a full folder without -r: refused, nothing removed
        every_path >"$WORK/paths.before"
        sum=$(psum)
        expect_exit 6 "$B" rm "$at/tree"
        expect_one_line_error
        expect_stderr "not empty"
        every_path >"$WORK/paths.after"
        cmp -s "$WORK/paths.before" "$WORK/paths.after" || fail "$what: rm without -r removed something"
        ok
        is file /tree/a/b/c/two
        deferred_eq "$(psum)" "$sum" "$what: partition after the refused rm of a full folder"
        sum=$(psum)
        expect_exit 6 "$B" rm "$at/p1"
        expect_one_line_error
        expect_stderr "not empty"
        deferred_eq "$(psum)" "$sum" "$what: partition after the refused rm of /p1"
        is dir /p1/p2/p3
        # -r takes the whole tree
        [ "$fs" = fat ] || inodes=$(free_inodes)
        [ "$fs" = fat ] || expect_exit 0 "$B" cp -r "$H/tree" "$at/tree2"
        [ "$fs" = fat ] || expect_exit 0 "$B" rm -r "$at/tree2"
        [ "$fs" = fat ] || expect_eq "$(free_inodes)" "$inodes" "$what: free inodes after cp -r and rm -r"
        expect_exit 0 "$B" rm -r "$at/tree"
        quiet
        is none /tree
        every_path | grep -i 'tree\|File.Name' && fail "$what: something of /tree is left"
        ok
        expect_exit 0 "$B" rm -r "$at/p1"
        is none /p1
        # an empty folder goes without -r
        expect_exit 0 "$B" rm "$at/newdir"
        quiet
        is none /newdir
        is dir "/Mixed Case Folder"
        # '/', and what is not there
        refused 6 "remove '/'" "$B" rm "$at/"
        refused 6 "remove '/'" "$B" rm -r "$at/"
        refused 6 "remove '/'" "$B" rm -r "$at"
        refused 3 "does not exist" "$B" rm "$at/nothere"
        refused 3 "does not exist" "$B" rm -r "$at/nothere"
        refused 3 "does not exist" "$B" rm "$at/nodir/nothere"
        is file "$existing"
        fsck_part

        # --- free space goes down with a big file and comes back with rm -------------
        free0=$(free_bytes)
        if [ "$fs" = fat ] && [ "$p" = "$(fact "$f" boot_part)" ]; then
                expect_eq "$("$B" info --json "$img" | jq .boot_free_bytes)" "$free0" "$what: info boot_free_bytes"
        fi
        expect_exit 0 "$B" cp "$H/10m.bin" "$at/big.bin"
        free1=$(free_bytes)
        [ $((free0 - free1)) -ge $((10 * MiB)) ] || fail "$what: free space $free0 -> $free1 after 10 MiB"
        ok
        if [ "$fs" = fat ]; then
                expect_eq "$("$B" info --json "$img" | jq .boot_free_bytes)" "$free1" "$what: info boot_free_bytes"
        fi
        expect_exit 0 "$B" rm "$at/big.bin"
        expect_eq "$(free_bytes)" "$free0" "$what: free space after rm"
        if [ "$fs" = fat ]; then
                expect_eq "$("$B" info --json "$img" | jq .boot_free_bytes)" "$free0" "$what: info boot_free_bytes"
        fi
        fsck_part

        snapshot "$img" >"$WORK/snap.after"
        only_changed "$WORK/snap.before" "$WORK/snap.after" "$p"
}

fixture legacy-2.7 >/dev/null
suite legacy-2.7 boot 1 fat /config.json
suite legacy-2.7 rootA 2 ext4 /counter
fixture gpt-boot12 >/dev/null
suite gpt-boot12 boot 12 fat /bootenv
# gpt-boot12's state is empty: debugfs puts a file there first
debugfs -w -R "write $H/victim.txt /existing.txt" \
        "$WORK/gpt-boot12.img?offset=$(part_offset "$WORK/gpt-boot12.img" 15)" >/dev/null 2>&1
suite gpt-boot12 resin-state 15 ext4 /existing.txt

# rm of a link removes the link only, -r included: never what it points to
img=$WORK/gpt-boot12.img p=$(fact gpt-boot12 rootA_part) fs=ext4 what="gpt-boot12 rootA"
is link /current
is link /boot
cid=$(dbg "$img" "$p" "ls -p /hostapps" | awk -F/ 'NF >= 7 && $6 != "." && $6 != ".." { print $6 }')
dbg "$img" "$p" "ls -p /hostapps/$cid" >"$WORK/hostapp.before"
expect_exit 0 "$B" rm -r "$img:rootA/current"
quiet
is none /current
dbg "$img" "$p" "ls -p /hostapps/$cid" >"$WORK/hostapp.after"
cmp -s "$WORK/hostapp.before" "$WORK/hostapp.after" || fail "rm -r of a link changed its target"
ok
expect_exit 0 "$B" rm "$img:rootA/boot"
is none /boot
is file "$(dirname "$(dirname "$(fact gpt-boot12 os_release_path)")")/boot/init"
fsck_ext "$img" "$p"

[ ! -s "$WORK/deferred" ] || fail "$(cat "$WORK/deferred")"
done_testing
