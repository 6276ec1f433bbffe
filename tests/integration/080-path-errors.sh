#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bad paths, partitions and command lines for ls, cat, cp, rm and mkdir: each
# gets its own exit code and a one-line error naming the problem, prints
# nothing on stdout, creates no host file, and leaves the image byte-identical.
. "$top_srcdir/tests/lib.sh"

for t in jq sfdisk; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

cache_part_tables

B=$BALENA_IMG

# img_times IMG: modification and change times (ns); any write moves them
img_times() { stat -c '%y %z %s' "$1"; }

# bad CODE TEXT CMD...: CMD exits CODE with one line on stderr holding TEXT and
# nothing on stdout, and none of the images was written (the full checksums are
# compared at the end; the times say which command did it)
bad() {
        code=$1 text=$2
        shift 2
        t0=$(img_times "$img") t1=$(img_times "$luks") t2=$(img_times "$flasher")
        expect_exit "$code" "$@"
        expect_one_line_error
        expect_stderr "$text"
        [ "$(img_times "$img")$(img_times "$luks")$(img_times "$flasher")" = "$t0$t1$t2" ] ||
                fail "'$*' wrote to an image"
        ok
        [ -z "$(ls -A "$OUT")" ] || fail "'$*' created host files: $(ls -A "$OUT")"
        ok
}

img=$(fixture mbr-v8)
luks=$(fixture mbr-luks-rootA)
flasher=$(fixture gpt-flasher)
sum_img=$(imgsum "$img") sum_luks=$(imgsum "$luks") sum_flasher=$(imgsum "$flasher")
OUT=$WORK/out
mkdir -p "$OUT" "$WORK/folder/sub"
printf 'host file\n' >"$WORK/file.txt"
printf 'inside\n' >"$WORK/folder/sub/f"

# --- '..' anywhere in the path: 6 ------------------------------------------------
for cmd in "cat $img:boot/../x" "ls $img:rootA/a/../../b" "ls $img:boot/.." "cat $img:rootA/etc/.." \
        "rm -r $img:rootA/etc/.." "mkdir $img:boot/a/.." "mkdir -p $img:rootA/x/../y" \
        "cp $WORK/file.txt $img:boot/../x" "cp $img:rootA/../etc/passwd $OUT/x"; do
        # shellcheck disable=SC2086 # the cases hold no spaces
        bad 6 "contains '..'" "$B" $cmd
done

# --- paths that are not there: 3 ---------------------------------------------------
bad 3 "'/nothere' does not exist" "$B" cat "$img:boot/nothere"
bad 3 "does not exist" "$B" ls "$img:boot/nodir/x"
bad 3 "'/nothere' does not exist" "$B" ls "$img:rootA/nothere"
bad 3 "does not exist" "$B" cat "$img:rootA/etc/nothere"
bad 3 "does not exist" "$B" cat "$img:data/nodir/nothere"
bad 3 "does not exist" "$B" cp "$img:boot/nothere" "$OUT/"
bad 3 "does not exist" "$B" cp "$img:rootA/nothere" "$OUT/x"
bad 3 "no-such.img" "$B" ls "$WORK/no-such.img:boot/"

# --- partitions: unknown, out of range, no filesystem, LUKS, extended ---------------
bad 3 "has no partition 'nope'" "$B" ls "$img:nope/x"
expect_stderr "1 resin-boot"
expect_stderr "2 resin-rootA"
expect_stderr "3 resin-rootB"
expect_stderr "5 resin-state"
expect_stderr "6 resin-data"
bad 3 "has no partition 'rootC'" "$B" cat "$img:rootC/etc/os-release"
for n in 0 7 9 99999999999999999999; do
        bad 3 "has no partition '$n'" "$B" ls "$img:$n/"
done
bad 3 "has no partition '6'" "$B" ls "$flasher:6/"
bad 4 "partition 4 'resin-state' holds no recognisable filesystem" "$B" ls "$flasher:4/"
bad 4 "no recognisable filesystem" "$B" ls "$flasher:state/"
bad 4 "no recognisable filesystem" "$B" cat "$flasher:data/x"
bad 4 "no recognisable filesystem" "$B" cp "$WORK/file.txt" "$flasher:5/x"
bad 4 "LUKS" "$B" ls "$luks:rootA/"
bad 4 "LUKS" "$B" cat "$luks:rootA/etc/os-release"
bad 4 "LUKS" "$B" mkdir "$luks:2/x"
bad 4 "extended partition" "$B" ls "$img:4/"
bad 4 "extended partition" "$B" cp "$WORK/file.txt" "$img:4/x"

# --- FAT cannot hold these characters, and mtools must not expand them: 6 ---------
for path in 'a*b' 'a?b' 'a\b' 'c*.json' 'config.js?n' '*' '[c]onfig.json' 'a:b' 'a<b' 'a>b' 'a|b' 'a"b'; do
        bad 6 "FAT names cannot hold" "$B" cat "$img:boot/$path"
done
bad 6 "FAT names cannot hold" "$B" ls "$img:boot/overlays/*"
bad 6 "FAT names cannot hold" "$B" cp "$WORK/file.txt" "$img:boot/x?y"
bad 6 "FAT names cannot hold" "$B" mkdir "$img:boot/a*b"
bad 6 "FAT names cannot hold" "$B" rm "$img:boot/c*.json"
bad 6 "FAT names cannot hold" "$B" rm -r "$img:boot/*"

# --- not a file / not a folder: 6 --------------------------------------------------
bad 6 "'/overlays' is a folder" "$B" cat "$img:boot/overlays"
bad 6 "is a folder" "$B" cat "$img:boot/"
bad 6 "is a directory" "$B" cat "$img:rootA/etc"
bad 6 "is not a folder" "$B" ls "$img:boot/config.json/x"
bad 6 "/counter/x" "$B" cat "$img:rootA/counter/x"
bad 6 "'/config.json'" "$B" cp -r "$WORK/folder" "$img:boot/config.json"
bad 6 "'/counter'" "$B" cp -r "$WORK/folder" "$img:rootA/counter"

# --- cp: the destination folder or the host source is missing: 3 ------------------
bad 3 "'/nodir' does not exist" "$B" cp "$WORK/file.txt" "$img:boot/nodir/x"
bad 3 "'/nodir' does not exist" "$B" cp "$WORK/file.txt" "$img:rootA/nodir/x"
bad 3 "'/nodir' does not exist" "$B" cp -r "$WORK/folder" "$img:boot/nodir/x"
bad 3 "cannot copy '$WORK/nothere'" "$B" cp "$WORK/nothere" "$img:boot/x"
bad 3 "cannot copy '$WORK/nothere'" "$B" cp "$WORK/nothere" "$img:rootA/"
bad 3 "cannot copy '$WORK/nothere'" "$B" cp -r "$WORK/nothere" "$img:data/"

# --- command lines: 2 ---------------------------------------------------------------
bad 2 "'foo' is not IMAGE:PART/PATH" "$B" cat foo
bad 2 "is not IMAGE:PART/PATH" "$B" ls "$img"
bad 2 "is not IMAGE:PART/PATH" "$B" rm foo
bad 2 "is not IMAGE:PART/PATH" "$B" mkdir "$img:"
bad 2 "names no image" "$B" cat ":boot/config.json"
bad 2 "exactly one of SOURCE and DEST" "$B" cp "$img:boot/config.json" "$img:rootA/config.json"
bad 2 "exactly one of SOURCE and DEST" "$B" cp "$WORK/file.txt" "$OUT/copy.txt"
bad 2 "exactly one of SOURCE and DEST" "$B" cp -r "$WORK/folder" "$OUT/folder"
bad 2 "is a folder; use -r" "$B" cp "$WORK/folder" "$img:boot/"
bad 2 "is a folder; use -r" "$B" cp "$img:boot/overlays" "$OUT/"
for c in ls cat cp rm mkdir; do
        bad 2 "$c: unknown option '--bogus'" "$B" "$c" --bogus "$img:boot/x"
        bad 2 "$c: unknown option '-Z'" "$B" "$c" -Z "$img:boot/x"
        bad 2 "try 'balena-img $c --help'" "$B" "$c"
done
bad 2 "cat: expected one" "$B" cat "$img:boot/config.json" "$img:boot/config.txt"
bad 2 "ls: expected one" "$B" ls "$img:boot/" "$img:rootA/"
bad 2 "cp: expected SOURCE and DEST" "$B" cp "$WORK/file.txt"
bad 2 "cp: expected SOURCE and DEST" "$B" cp "$WORK/file.txt" "$img:boot/a" "$img:boot/b"
bad 2 "rm: expected one" "$B" rm "$img:boot/a" "$img:boot/b"
bad 2 "mkdir: expected one" "$B" mkdir -p
bad 2 "unknown command 'cats'" "$B" cats "$img:boot/config.json"

# --- stdout cannot be written: 5 -----------------------------------------------------
for spec in "$img:boot/config.json" "$img:rootA$(fact mbr-v8 os_release_path)" "$img:rootA/counter"; do
        t0=$(img_times "$img")
        set +e
        "$B" cat "$spec" >/dev/full 2>"$WORK/stderr"
        RC=$?
        set -e
        expect_eq "$RC" 5 "cat $spec > /dev/full: exit"
        [ "$(wc -l <"$WORK/stderr")" -eq 1 ] && grep -q '^balena-img: .*No space left on device' "$WORK/stderr" ||
                fail "cat $spec > /dev/full: $(cat "$WORK/stderr")"
        ok
        expect_eq "$(img_times "$img")" "$t0" "cat > /dev/full: image times"
done
for spec in "$img:boot/" "$img:rootA/"; do
        set +e
        "$B" ls -l "$spec" >/dev/full 2>"$WORK/stderr"
        RC=$?
        set -e
        expect_eq "$RC" 5 "ls -l $spec > /dev/full: exit"
        [ "$(wc -l <"$WORK/stderr")" -eq 1 ] && grep -q '^balena-img: cannot write the output' "$WORK/stderr" ||
                fail "ls > /dev/full: $(cat "$WORK/stderr")"
        ok
done

expect_eq "$(imgsum "$img")" "$sum_img" "mbr-v8 checksum after every rejected command"
expect_eq "$(imgsum "$luks")" "$sum_luks" "mbr-luks-rootA checksum after every rejected command"
expect_eq "$(imgsum "$flasher")" "$sum_flasher" "gpt-flasher checksum after every rejected command"
done_testing
