#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# cp into and out of FAT boot partitions (FAT16 and FAT32), read back with
# mtools: bytes and names exact, case kept; folders copied with -r; fsck.fat
# clean; a write lands in the boot partition only (partition 12 on gpt-boot12,
# flash-boot on the flasher) and no other byte of the image changes.
. "$top_srcdir/tests/lib.sh"

for t in jq sfdisk mdir mtype fsck.fat; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

cache_part_tables

B=$BALENA_IMG
H=$WORK/host                    # files to copy in
OUT=$WORK/out                   # files copied out



# fat_is IMG N PATH HOSTFILE: mtype reads HOSTFILE's bytes at PATH, and mdir -b lists
# PATH's name exactly (case kept)
fat_is() {
        m mtype "$1" "$2" "::$3" >"$WORK/mtype.out" 2>"$WORK/mtype.err" ||
                fail "mtype ::$3: $(cat "$WORK/mtype.err")"
        cmp -s "$WORK/mtype.out" "$4" ||
                fail "::$3 holds $(wc -c <"$WORK/mtype.out") bytes that differ from '$4' ($(wc -c <"$4"))"
        ok
        m mdir "$1" "$2" -b "::$(dirname "$3")/" >"$WORK/mdir.out"
        grep -qxF "::$3" "$WORK/mdir.out" ||
                fail "mdir does not list '::$3' exactly: $(tr '\n' ' ' <"$WORK/mdir.out")"
        ok
}
# entries IMG N PATH: how many entries of PATH's folder match its name, ignoring case
entries() {
        m mdir "$1" "$2" -b "::$(dirname "$3")/" | grep -icxF "::$3" || true
}
# fat_tree_is IMG N PATH HOSTDIR: the folder holds exactly HOSTDIR's names and bytes
fat_tree_is() {
        (cd "$4" && find . -mindepth 1 \( -type d -printf '%P/\n' -o -printf '%P\n' \)) |
                sort >"$WORK/tree.want"
        m mdir "$1" "$2" -b -s "::$3/" | cut -c$((${#3} + 4))- | sed '/^$/d' | sort >"$WORK/tree.got"
        cmp -s "$WORK/tree.got" "$WORK/tree.want" ||
                fail "::$3 holds [$(tr '\n' ' ' <"$WORK/tree.got")], want [$(tr '\n' ' ' <"$WORK/tree.want")]"
        ok
        (cd "$4" && find . -type f -printf '%P\n') >"$WORK/tree.files"
        while read -r p; do
                fat_is "$1" "$2" "$3/$p" "$4/$p"
        done <"$WORK/tree.files"
}
# host_tree_is DIR IMG N PATH: a folder copied out holds what mtype reads. (mdir -b
# lower-cases only the ASCII letters of a short name flagged lower-case, so it shows
# café.txt, stored as CAFÉ.TXT, as cafÉ.txt; mdir -a and Linux show café.txt.)
host_tree_is() {
        m mdir "$2" "$3" -b -s "::$4/" | cut -c$((${#4} + 4))- | sed '/^$/d; s/cafÉ\.txt$/café.txt/' |
                sort >"$WORK/tree.want"
        (cd "$1" && find . -mindepth 1 \( -type d -printf '%P/\n' -o -printf '%P\n' \)) |
                sort >"$WORK/tree.got"
        cmp -s "$WORK/tree.got" "$WORK/tree.want" ||
                fail "'$1' holds [$(tr '\n' ' ' <"$WORK/tree.got")], want [$(tr '\n' ' ' <"$WORK/tree.want")]"
        ok
        grep -v '/$' "$WORK/tree.want" >"$WORK/tree.files" || true
        while read -r p; do
                m mtype "$2" "$3" "::$4/$p" >"$WORK/mtype.out"
                cmp -s "$1/$p" "$WORK/mtype.out" || fail "'$1/$p' differs from ::$4/$p"
                ok
        done <"$WORK/tree.files"
}

# --- what gets copied in ------------------------------------------------------
mkdir -p "$H" "$OUT"
printf 'hello from the host\n' >"$H/new.txt"
printf '{"deviceType": "replaced", "hostname": "replaced-by-cp"}\n' >"$H/config.json"
printf 'a name with spaces\n' >"$H/my file name.txt"
printf 'long mixed case\n' >"$H/ThisIsA.LongMixedCase-Name.conf"
printf 'caf\303\251\n' >"$H/café.txt"
head -c 3145728 /dev/urandom >"$H/big.bin"
: >"$H/empty"
mkdir -p "$H/tree/a/b/c" "$H/tree/Mixed Case Dir/Inner" "$H/tree/x" "$H/tree/Ünïcödé folder"
printf 'one\n' >"$H/tree/a/one"
printf 'two\n' >"$H/tree/a/b/c/two"
: >"$H/tree/a/b/empty"
printf 'three\n' >"$H/tree/x/Three.TXT"
printf 'inner\n' >"$H/tree/Mixed Case Dir/Inner/Deep.File.Name.txt"
head -c 70000 /dev/urandom >"$H/tree/Mixed Case Dir/blob.bin"
printf 'unicode\n' >"$H/tree/Ünïcödé folder/Grüße aus dem Bild.txt"

# fat_suite FIXTURE: every kind of cp into and out of its boot partition
fat_suite() {
        f=$1
        img=$(fixture "$f")
        bp=$(fact "$f" boot_part)
        bytes_free_before=$(m mdir "$img" "$bp" ::/ | sed -n 's/ bytes free$//p' | tr -d ' ')

        # a new file, by role and by number
        expect_exit 0 "$B" cp "$H/new.txt" "$img:boot/new.txt"
        quiet
        fat_is "$img" "$bp" /new.txt "$H/new.txt"
        expect_exit 0 "$B" cp "$H/new.txt" "$img:$bp/Renamed File.TXT"
        fat_is "$img" "$bp" "/Renamed File.TXT" "$H/new.txt"

        # replace an existing file: new bytes, still one entry, its name as it was
        expect_exit 0 "$B" cp "$H/config.json" "$img:boot/config.json"
        quiet
        fat_is "$img" "$bp" /config.json "$H/config.json"
        expect_eq "$(entries "$img" "$bp" /config.json)" 1 "$f: entries named config.json"
        # replace a 3 MiB file by a smaller one, and the other way round
        expect_exit 0 "$B" cp "$H/big.bin" "$img:boot/swap.bin"
        expect_exit 0 "$B" cp "$H/new.txt" "$img:boot/swap.bin"
        fat_is "$img" "$bp" /swap.bin "$H/new.txt"
        expect_exit 0 "$B" cp "$H/big.bin" "$img:boot/swap.bin"
        fat_is "$img" "$bp" /swap.bin "$H/big.bin"
        expect_eq "$(entries "$img" "$bp" /swap.bin)" 1 "$f: entries named swap.bin"

        # into an existing folder, with and without a trailing '/'
        expect_exit 0 "$B" cp "$H/new.txt" "$img:boot/splash"
        fat_is "$img" "$bp" /splash/new.txt "$H/new.txt"
        expect_exit 0 "$B" cp "$H/my file name.txt" "$img:boot/system-connections/"
        fat_is "$img" "$bp" "/system-connections/my file name.txt" "$H/my file name.txt"

        # names: spaces, long mixed case, a 3 MiB binary, an empty file, into '/'
        for name in "my file name.txt" ThisIsA.LongMixedCase-Name.conf big.bin empty; do
                expect_exit 0 "$B" cp "$H/$name" "$img:boot/"
                quiet
                fat_is "$img" "$bp" "/$name" "$H/$name"
        done
        expect_eq "$(m mtype "$img" "$bp" ::/empty | wc -c)" 0 "$f: empty file size"
        # café.txt fits 8.3, so it is a short name with the lower-case flags set; mdir -b
        # upper-cases the é (an mtools display quirk), mdir -a shows the short name
        expect_exit 0 "$B" cp "$H/café.txt" "$img:boot/"
        m mtype "$img" "$bp" ::/café.txt >"$WORK/mtype.out"
        cmp -s "$WORK/mtype.out" "$H/café.txt" || fail "$f: ::/café.txt differs"
        ok
        m mdir "$img" "$bp" -a ::/ | grep -q "^café  *txt  *$(wc -c <"$H/café.txt") " ||
                fail "$f: mdir -a lacks café.txt: $(m mdir "$img" "$bp" -a ::/)"
        ok

        # a tree with nested folders, as a new folder and into an existing one
        expect_exit 0 "$B" cp -r "$H/tree" "$img:boot/"
        quiet
        fat_tree_is "$img" "$bp" /tree "$H/tree"
        expect_exit 0 "$B" cp -r "$H/tree" "$img:boot/Tree Copy"
        fat_tree_is "$img" "$bp" "/Tree Copy" "$H/tree"
        # again onto the existing folder: it goes inside it
        expect_exit 0 "$B" cp -r "$H/tree/x" "$img:boot/Tree Copy"
        fat_tree_is "$img" "$bp" "/Tree Copy/x" "$H/tree/x"
        # the tool's temporary files on a tmpfs TMPDIR (where there is one), and
        # all of them gone afterwards
        shm=$(mktemp -d /dev/shm/balena-img-test-XXXXXX 2>/dev/null) || shm=
        if [ -n "$shm" ]; then
                expect_exit 0 env TMPDIR="$shm" "$B" cp -r "$H/tree" "$img:boot/Tree Shm"
                fat_tree_is "$img" "$bp" "/Tree Shm" "$H/tree"
                expect_eq "$(ls -A "$shm")" "" "what is left in a tmpfs TMPDIR"
                rmdir "$shm"
        fi

        # the free space went down by at least the bytes written
        bytes_free_after=$(m mdir "$img" "$bp" ::/ | sed -n 's/ bytes free$//p' | tr -d ' ')
        [ $((bytes_free_before - bytes_free_after)) -ge $((2 * 3145728)) ] ||
                fail "$f: free space went from $bytes_free_before to $bytes_free_after"
        ok

        # a folder without -r: usage error, nothing written
        before=$(imgsum "$img")
        expect_exit 2 "$B" cp "$H/tree" "$img:boot/tree3"
        expect_one_line_error
        expect_stderr "use -r"
        expect_exit 2 "$B" cp "$H/tree" "$img:boot/"
        expect_one_line_error
        expect_eq "$(imgsum "$img")" "$before" "$f: image after cp of a folder without -r"
        m mdir "$img" "$bp" -b ::/ | grep -qixF ::/tree3 && fail "$f: tree3 was created"
        ok

        # out of the image (the image stays as $before): a file, into a folder and to a name, then replacing it
        rm -rf "$OUT" && mkdir -p "$OUT"
        m mtype "$img" "$bp" ::/config.json >"$WORK/want"
        expect_exit 0 "$B" cp "$img:boot/config.json" "$OUT/"
        quiet
        cmp -s "$OUT/config.json" "$WORK/want" || fail "$f: config.json copied out differs"
        ok
        expect_exit 0 "$B" cp "$img:boot/big.bin" "$OUT/big copy.bin"
        cmp -s "$OUT/big copy.bin" "$H/big.bin" || fail "$f: big.bin copied out differs"
        ok
        expect_exit 0 "$B" cp "$img:boot/new.txt" "$OUT/big copy.bin"
        cmp -s "$OUT/big copy.bin" "$H/new.txt" || fail "$f: copy out did not replace the host file"
        ok
        expect_exit 0 "$B" cp "$img:boot/ThisIsA.LongMixedCase-Name.conf" "$OUT/"
        cmp -s "$OUT/ThisIsA.LongMixedCase-Name.conf" "$H/ThisIsA.LongMixedCase-Name.conf" ||
                fail "$f: the long mixed-case name was not copied out under its name"
        ok
        expect_exit 0 "$B" cp "$img:boot/empty" "$OUT/"
        [ -f "$OUT/empty" ] && [ ! -s "$OUT/empty" ] || fail "$f: empty file copied out"
        ok
        # a folder: -r needed; with it, every file as mtype reads it
        expect_exit 2 "$B" cp "$img:boot/system-connections" "$OUT/"
        expect_one_line_error
        [ ! -e "$OUT/system-connections" ] || fail "$f: cp without -r created the folder"
        ok
        expect_exit 0 "$B" cp -r "$img:boot/system-connections" "$OUT/"
        host_tree_is "$OUT/system-connections" "$img" "$bp" /system-connections
        expect_exit 0 "$B" cp -r "$img:boot/splash" "$OUT/logo"
        host_tree_is "$OUT/logo" "$img" "$bp" /splash
        [ -z "$(find "$OUT" -name '*.bimg-*')" ] || fail "$f: temporary files left in $OUT"
        ok
        expect_eq "$(imgsum "$img")" "$before" "$f: image after copies out"

        fsck_fat "$img" "$bp"
}

fat_suite mbr-v8                # FAT16
rm -f "$WORK/mbr-v8.img"
fat_suite gpt-fat32             # FAT32
fat32=$img fat32_sum=$before

# --- gpt-boot12: boot is partition 12; the write lands there and nowhere else -----
img=$(fixture gpt-boot12)
snapshot "$img" >"$WORK/snap.before"
expect_exit 0 "$B" cp "$H/big.bin" "$img:boot/"
expect_exit 0 "$B" cp "$H/new.txt" "$img:12/extlinux/"
expect_exit 0 "$B" cp "$H/config.json" "$img:resin-boot/config.json"
fat_is "$img" 12 /big.bin "$H/big.bin"
fat_is "$img" 12 /extlinux/new.txt "$H/new.txt"
fat_is "$img" 12 /config.json "$H/config.json"
snapshot "$img" >"$WORK/snap.after"
only_changed "$WORK/snap.before" "$WORK/snap.after" 12
fsck_fat "$img" 12
rm -f "$img"

# --- the flasher's flash-boot (label flash-boot, GPT name resin-boot) -------------
img=$(fixture gpt-flasher)
snapshot "$img" >"$WORK/snap.before"
expect_exit 0 "$B" cp "$H/new.txt" "$img:flash-boot/"
expect_exit 0 "$B" cp "$H/ThisIsA.LongMixedCase-Name.conf" "$img:resin-boot/EFI/BOOT/"
expect_exit 0 "$B" cp -r "$H/tree" "$img:boot/"
fat_is "$img" 1 /new.txt "$H/new.txt"
fat_is "$img" 1 /EFI/BOOT/ThisIsA.LongMixedCase-Name.conf "$H/ThisIsA.LongMixedCase-Name.conf"
fat_tree_is "$img" 1 /tree "$H/tree"
snapshot "$img" >"$WORK/snap.after"
only_changed "$WORK/snap.before" "$WORK/snap.after" 1
fsck_fat "$img" 1
rm -f "$img"

# --- out of the image: a folder with nested folders, and a UTF-8 8.3 name ---------
# Each failure here is recorded and reported at the end, so one does not hide the next.
later() { echo "$*" >>"$WORK/deferred"; }
img=$fat32 before=$fat32_sum
rm -rf "$OUT" && mkdir -p "$OUT"
run "$B" cp -r "$img:boot/tree" "$OUT/"
if [ "$RC" -eq 0 ]; then
        quiet
        host_tree_is "$OUT/tree" "$img" 1 /tree
else
        later "cp -r IMG:boot/tree OUT/: exit $RC, want 0: $(head -c 300 "$WORK/stderr")"
fi
ok
run "$B" cp -r "$img:boot/" "$OUT/all"
if [ "$RC" -eq 0 ]; then
        host_tree_is "$OUT/all" "$img" 1 ""
else
        later "cp -r IMG:boot/ OUT/all: exit $RC, want 0: $(head -c 300 "$WORK/stderr")"
fi
ok
run "$B" cp "$img:boot/café.txt" "$OUT/"
if [ "$RC" -eq 0 ]; then
        cmp -s "$OUT/café.txt" "$H/café.txt" || fail "café.txt copied out differs"
else
        later "cp IMG:boot/café.txt OUT/: exit $RC, want 0: $(head -c 300 "$WORK/stderr")"
fi
ok
expect_eq "$(imgsum "$img")" "$before" "image after copies out"
[ ! -s "$WORK/deferred" ] || fail "$(cat "$WORK/deferred")"

done_testing
