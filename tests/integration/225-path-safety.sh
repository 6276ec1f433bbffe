#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Names and paths that would escape: ext4 symlinks inside the image (absolute,
# ../../.., onto host paths, loops) never lead out of the filesystem nor onto
# the host; directory entries that are not file names (a crafted '/' or a second
# '..') stop ls, cp -r and rm -r; FAT names mtools refuses (CON, LPT1) are
# refused up front; -o never names the input (itself, ./, absolute, dir/..,
# hard or symbolic link); batch outputs stay new files under the manifest's
# folder. 080-path-errors covers '..' in IMAGE:PART/PATH, 140 udev names.
. "$top_srcdir/tests/lib.sh"

for t in sfdisk jq cksum debugfs tune2fs e2fsck mtype dd timeout; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done
cache_part_tables

bin=$BALENA_IMG
H=$WORK/host            # host files an image must never reach
OUT=$WORK/out           # where cp writes
mkdir -p "$H/dir" "$OUT"
printf 'host secret\n' >"$H/dir/secret"
host_state() { find "$H" -printf '%p %y %s %T@\n'; cat "$H/dir/secret"; }
host0=$(host_state)

state() { stat -c '%s %y' "$1"; }
# bad CODE TEXT CMD...: exit CODE within 20 s, one line matching TEXT, $img
# unchanged, nothing new on the host outside $OUT
bad() {
        code=$1 text=$2
        shift 2
        before=$(state "$img")
        run timeout -k 5 20 "$@"
        [ "$RC" -eq "$code" ] || fail "$*: exit $RC, want $code: $(head -c 600 "$WORK/stderr")"
        ok
        expect_one_line_error
        expect_stderr "$text"
        expect_eq "$(state "$img")" "$before" "$img after $*"
        expect_eq "$(host_state)" "$host0" "host files after $*"
}
good() {
        run timeout -k 5 20 "$@"
        [ "$RC" -eq 0 ] || fail "$*: exit $RC: $(head -c 600 "$WORK/stderr")"
        ok
}

# ---------------------------------------------------------------- ext4 symlinks
img=$(fixture mbr-v8)
off=$(part_offset "$img" 2)
printf 'in the image\n' >"$WORK/inside"
debugfs -w "$img?offset=$off" -f - >/dev/null 2>&1 <<EOF
write $WORK/inside /etc/inside
symlink /abs /etc/inside
symlink /up ../../../../../../etc/inside
symlink /hostfile $H/dir/secret
symlink /hostdir $H/dir
symlink /uphost ../../../../../../../../..$H/dir
symlink /loopa /loopb
symlink /loopb /loopa
symlink /self /self
mkdir /d
symlink /d/abs /etc/inside
symlink /d/host $H/dir
symlink /d/up ../../../../..
write $WORK/inside /d/file
EOF
expect_eq "$(dbg "$img" 2 'cat /etc/inside')" "in the image" "debugfs reads /etc/inside"
img_sum=$(imgsum "$img")
# absolute and ../.. targets resolve inside the filesystem
good "$bin" cat "$img:rootA/abs"
expect_eq "$(cat "$WORK/stdout")" "in the image" "cat /abs"
good "$bin" cat "$img:rootA/up"
expect_eq "$(cat "$WORK/stdout")" "in the image" "cat /up (../../..)"
# host paths do not exist inside: never the host's file
bad 3 "'/hostfile' is a symbolic link whose target does not exist" "$bin" cat "$img:rootA/hostfile"
bad 3 "'/hostdir/secret' does not exist" "$bin" cat "$img:rootA/hostdir/secret"
bad 3 "'/uphost/secret' does not exist" "$bin" cat "$img:rootA/uphost/secret"
bad 3 "does not exist" "$bin" cp "$img:rootA/hostfile" "$OUT/x"
bad 6 "too many levels of symbolic links" "$bin" cat "$img:rootA/loopa"
bad 6 "too many levels of symbolic links" "$bin" cat "$img:rootA/self"
# writing through them: never onto the host, nor through a link to a folder
printf 'new\n' >"$WORK/new"
bad 6 "'/hostdir' is not a folder" "$bin" cp "$WORK/new" "$img:rootA/hostdir/x"
bad 6 "'/d/up' is not a folder" "$bin" cp "$WORK/new" "$img:rootA/d/up/x"
bad 6 "'/abs' is a symbolic link; remove it first" "$bin" cp "$WORK/new" "$img:rootA/abs"
bad 6 "is not a folder" "$bin" mkdir "$img:rootA/hostdir/sub"
# cp -r out of the image: links are skipped (never made on the host)
good "$bin" cp -r "$img:rootA/d" "$OUT/"
expect_stderr "skipping symbolic link '/d/host'"
expect_eq "$(cd "$OUT" && find . | sort | tr '\n' ' ')" ". ./d ./d/file " "what cp -r made"
[ -z "$(find "$OUT" -type l)" ] || fail "cp -r made a symbolic link on the host"
ok
rm -rf "$OUT"/*
expect_eq "$(imgsum "$img")" "$img_sum" "image after reading through symlinks"
# rm removes the link, never its target
good "$bin" rm "$img:rootA/abs"
good "$bin" rm -r "$img:rootA/d"
expect_eq "$(dbg "$img" 2 'cat /etc/inside')" "in the image" "/etc/inside after rm of links to it"
dbg "$img" 2 'ls -l /' | grep -q ' d$' && fail "/d is still there"
ok
expect_eq "$(host_state)" "$host0" "host files after rm"
fsck_ext "$img" 2

# ---------------------------------------------------------------- entries that are not names
# ext4 keeps '/' out of names; a crafted directory has one anyway (metadata_csum
# off, so the block still reads), and a second '..'
dd if="$img" of="$WORK/rootA.ext4" bs=1M skip=$((off / 1048576)) count=$(($(part_size "$img" 2) / 1048576)) conv=sparse status=none
tune2fs -O ^metadata_csum "$WORK/rootA.ext4" >/dev/null 2>&1 || fail "tune2fs failed"
debugfs -w "$WORK/rootA.ext4" -f - >/dev/null 2>&1 <<EOF
mkdir /evil
write $WORK/inside /evil/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
write $WORK/inside /evil/BB
EOF
# the names are replaced where they are stored, byte for byte
name_at() { grep -abo "$1" "$WORK/rootA.ext4" | head -1 | cut -d: -f1; }
a=$(name_at AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)
[ -n "$a" ] || fail "no AAAA... entry in rootA"
printf '../../../../../../../../../../tmp' | dd of="$WORK/rootA.ext4" bs=1 seek="$a" conv=notrunc status=none
b=$(name_at 'BB')
printf '..' | dd of="$WORK/rootA.ext4" bs=1 seek="$b" conv=notrunc status=none
dd if="$WORK/rootA.ext4" of="$img" bs=1M seek=$((off / 1048576)) conv=notrunc,sparse status=none
rm -f "$WORK/rootA.ext4"
dbg "$img" 2 'ls /evil' | grep -q '\.\./\.\./' || fail "the crafted entry is not there"
ok
bad 4 "partition 2 'resin-rootA': '/evil' holds an entry named '\.\./\.\./.*', which is not a file name; the filesystem is damaged" \
        "$bin" ls "$img:rootA/evil"
bad 4 "which is not a file name; the filesystem is damaged" "$bin" cp -r "$img:rootA/evil" "$OUT/"
[ -z "$(find "$OUT" -mindepth 2)" ] || fail "cp -r of a damaged folder wrote files: $(find "$OUT")"
ok
bad 4 "'/evil' holds an entry named '\.\./\.\./.*'" "$bin" rm -r "$img:rootA/evil"
rm -rf "$OUT"/*

# ---------------------------------------------------------------- FAT: DOS device names
img=$(fixture gpt-flasher)
b=$(fact gpt-flasher boot_part)
cat >"$WORK/CON" <<'EOF'
[connection]
id=wired
type=ethernet

[ipv4]
method=auto
EOF
cp "$WORK/CON" "$WORK/lpt1"
bad 6 "'/system-connections/CON': 'CON' is a DOS device name" "$bin" configure "$img" --system-connection "$WORK/CON"
bad 6 "'lpt1' is a DOS device name" "$bin" configure "$img" --system-connection "$WORK/lpt1"
bad 6 "'Nul' is a DOS device name" "$bin" cp "$WORK/new" "$img:$b/Nul"
bad 6 "'aux' is a DOS device name" "$bin" mkdir "$img:$b/aux"
bad 6 "'COM1' is a DOS device name" "$bin" cp "$WORK/new" "$img:$b/COM1/x"
# with an extension they are ordinary names
good "$bin" cp "$WORK/new" "$img:$b/con.txt"
expect_eq "$(m mtype "$img" "$b" ::/con.txt)" new "con.txt read back"

# ---------------------------------------------------------------- -o never names the input
img=$(fixture mbr-v8)
cd "$WORK"
ln mbr-v8.img hard.img
ln -s mbr-v8.img soft.img
ln -s "$img" abs-link.img
mkdir sub
sum=$(imgsum "$img")
for o in mbr-v8.img ./mbr-v8.img "$img" sub/../mbr-v8.img hard.img soft.img abs-link.img; do
        bad 2 "-o '$o' is the input image itself" "$bin" configure "$img" --hostname x -o "$o"
done
bad 2 "-o 'hard.img' is the input image itself" "$bin" configure soft.img --hostname x -o hard.img
bad 2 "is the input image itself" "$bin" config set "$img" hostname=x -o soft.img
bad 2 "is the input image itself" "$bin" cp "$WORK/new" "$img:boot/x" -o hard.img
bad 2 "is the input image itself" "$bin" rm "$img:boot/config.json" -o ./mbr-v8.img
bad 2 "is the input image itself" "$bin" mkdir "$img:boot/x" -o abs-link.img
expect_eq "$(ls -A | grep -c balena-img)" 0 "temporary files left beside the image"
expect_eq "$(imgsum "$img")" "$sum" "image after every -o onto it"

# ---------------------------------------------------------------- batch outputs
mkdir "$WORK/b"
cd "$WORK/b"
cp --sparse=always "$img" base.img
ln -s base.img link.img
sum=$(imgsum base.img)
# manifest OUTPUT [HOSTNAME [BMAP]]
manifest() {
        printf '{ "images": { "raspberrypi4-64": "base.img" }, "output": "%s", "bmap": %s,
  "devices": [ { "hostname": "first" }, { "hostname": "%s" } ] }\n' "$1" "${3:-false}" "${2:-second}" >fleet.json
}
img=$WORK/b/base.img
manifest "../{hostname}.img"
bad 6 "fleet.json: \"output\" '../{hostname}.img' contains '..'; outputs are written under the manifest's folder" "$bin" batch fleet.json
manifest "out/../../{hostname}.img"
bad 6 "contains '..'" "$bin" batch fleet.json
manifest "$WORK/{hostname}.img"
bad 6 "fleet.json: \"output\" '$WORK/{hostname}.img' is an absolute path" "$bin" batch fleet.json
manifest "{hostname}.img" base
bad 6 "fleet.json: devices\[1\]: the output 'base.img' is the base image 'base.img'; outputs must be new files" "$bin" batch fleet.json
manifest "{hostname}.img" link
bad 6 "the output 'link.img' is the base image 'base.img'" "$bin" batch fleet.json
manifest "{hostname}" fleet.json
bad 6 "devices\[1\]: the output 'fleet.json' is the manifest 'fleet.json'" "$bin" batch fleet.json
manifest "{hostname}.json" fleet
bad 6 "devices\[1\]: the output 'fleet.json' is the manifest 'fleet.json'" "$bin" batch fleet.json
ln -s base.img second.bmap
manifest "{hostname}" second true
bad 6 "the output 'second.bmap' is the base image 'base.img'" "$bin" batch fleet.json
rm second.bmap
manifest "{hostname}.img" ".."
bad 6 "hostname" "$bin" batch fleet.json
expect_eq "$(ls -A | sort | tr '\n' ' ')" "base.img fleet.json link.img " "files beside the manifest"
expect_eq "$(imgsum base.img)" "$sum" "base image after every refused batch"
# a plain name under the folder still works
manifest "out/{hostname}.img"
good "$bin" batch fleet.json --dry-run

expect_eq "$(host_state)" "$host0" "host files at the end"
done_testing
