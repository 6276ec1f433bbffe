#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The boot splash (balenaos-spec.md §5, §2.3): splash and configure --splash
# write the PNG byte for byte as splash/balena-logo.png (resin-logo.png before
# 2.53.0, on legacy-2.4x), on flash-boot for a flasher, creating splash/ when it
# is gone; --extract gives back the current logo; the same logo twice and
# --dry-run change no byte; BALENA_IMG names the image; a PNG that would leave
# less free space than one more copy of the largest file plus 512 KiB is
# refused with the amount missing, and a PNG just under that limit is taken.
# Read back with mtype, sizes from mdir/minfo, fsck.fat -n clean, and no byte
# outside the boot partition changes.
#
# The PNGs come from tests/tools/mkpng ($MKPNG, built by make check); run by
# hand without it, the test builds it into $WORK with cc and zlib.
. "$top_srcdir/tests/lib.sh"

for t in sfdisk jq cksum mtype mdir mcopy mdeltree mlabel minfo fsck.fat cmp awk; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

bin=$BALENA_IMG
unset BALENA_IMG

need_mkpng
[ -x "$MKPNG" ] || fail "MKPNG='$MKPNG' is not a program"
echo "# PNGs from $MKPNG" >&2
png() { "$MKPNG" "$@" || fail "mkpng $*"; }

P=$WORK/png
mkdir "$P"
png "$P/logo.png" 840 840 flat 13395660          # one colour: a few hundred bytes
png "$P/logo2.png" 300 200 noise 5               # 240 KB of noise
png "$P/logo3.png" 64 64 noise 6
! cmp -s "$P/logo.png" "$P/logo2.png" || fail "mkpng made the same file twice"

# get IMG N PATH OUT: a file of partition N, read with mtype
get() {
        m mtype "$1" "$2" "::$3" >"$4" 2>"$WORK/mtype.err" || fail "mtype ::$3: $(cat "$WORK/mtype.err")"
}
# same IMG N PATH FILE: ::PATH of partition N holds exactly the bytes of FILE
same() {
        get "$1" "$2" "$3" "$WORK/got"
        cmp -s "$WORK/got" "$4" ||
                fail "::$3 is not $(basename "$4") ($(wc -c <"$WORK/got") vs $(wc -c <"$4") bytes)"
        ok
}
absent() {
        ! m mdir "$1" "$2" -b "::$3" >/dev/null 2>&1 || fail "::$3 exists"
        ok
}
# outside IMG N: cksum of the bytes before and after partition N
outside() {
        s=$(part_offset "$1" "$2")
        e=$((s + $(part_size "$1" "$2")))
        printf '%s %s\n' "$(head -c "$s" "$1" | cksum)" "$(tail -c +"$((e + 1))" "$1" | cksum)"
}
# free IMG N: free bytes of the FAT in partition N, as mdir counts them
free_bytes() { m mdir "$1" "$2" ::/ | awk '/bytes free/ { gsub(/[^0-9]/, ""); print }'; }
cluster() {
        m minfo "$1" "$2" | awk '/^sector size:/ { s = $3 } /^cluster size:/ { c = $3 } END { print s * c }'
}
ok0() {
        run "$@"
        [ "$RC" -eq 0 ] || fail "$*: exit $RC: $(head -c 600 "$WORK/stderr")"
        ok
}
refused() {
        code=$1 text=$2
        shift 2
        run "$@"
        [ "$RC" -eq "$code" ] || fail "$*: exit $RC, want $code: $(head -c 600 "$WORK/stderr")"
        ok
        expect_one_line_error
        expect_stderr "$text"
}

# ================================================================ mbr-v8 (6.0.24)
img=$(fixture mbr-v8)
b=$(fact mbr-v8 boot_part)
target=/splash/balena-logo.png
expect_eq "$(fact mbr-v8 splash)" "$target" "mbr-v8: the splash the fixture has"
get "$img" "$b" "$target" "$P/orig.png"
outside_before=$(outside "$img" "$b")
sum0=$(checksum "$img")

# --extract on the untouched image: its logo, and no change
ok0 "$bin" splash "$img" --extract "$WORK/x0.png"
cmp -s "$WORK/x0.png" "$P/orig.png" || fail "--extract did not give the image's logo"
ok
expect_eq "$(checksum "$img")" "$sum0" "mbr-v8 after --extract"

# --dry-run: says what it would do, writes nothing
ok0 "$bin" splash "$img" "$P/logo.png" --dry-run
expect_stdout "balena-logo.png"
expect_eq "$(checksum "$img")" "$sum0" "mbr-v8 after splash --dry-run"
ok0 "$bin" configure "$img" --splash "$P/logo.png" --dry-run
expect_stdout "balena-logo.png"
expect_eq "$(checksum "$img")" "$sum0" "mbr-v8 after configure --splash --dry-run"

# splash IMG LOGO
ok0 "$bin" splash "$img" "$P/logo.png"
expect_stdout "resin-boot:$target"
same "$img" "$b" "$target" "$P/logo.png"
absent "$img" "$b" /splash/resin-logo.png
ok0 "$bin" splash "$img" --extract "$WORK/x1.png"
cmp -s "$WORK/x1.png" "$P/logo.png" || fail "--extract did not give the new logo"
ok
# the same logo again: not one byte changes
sum1=$(checksum "$img")
ok0 "$bin" splash "$img" "$P/logo.png"
expect_eq "$(checksum "$img")" "$sum1" "mbr-v8 after the same splash twice"
ok0 "$bin" configure "$img" --splash "$P/logo.png"
expect_eq "$(checksum "$img")" "$sum1" "mbr-v8 after the same splash by configure"

# configure --splash
ok0 "$bin" configure "$img" --splash "$P/logo2.png"
same "$img" "$b" "$target" "$P/logo2.png"
ok0 "$bin" splash "$img" --extract "$WORK/x2.png"
cmp -s "$WORK/x2.png" "$P/logo2.png" || fail "--extract after configure --splash"
ok

# BALENA_IMG names the image
run env BALENA_IMG="$img" "$bin" splash "$P/logo3.png"
[ "$RC" -eq 0 ] || fail "BALENA_IMG=IMG splash LOGO: exit $RC: $(head -c 600 "$WORK/stderr")"
ok
same "$img" "$b" "$target" "$P/logo3.png"
run env BALENA_IMG="$img" "$bin" splash --extract "$WORK/x3.png"
[ "$RC" -eq 0 ] || fail "BALENA_IMG=IMG splash --extract: exit $RC: $(head -c 600 "$WORK/stderr")"
ok
cmp -s "$WORK/x3.png" "$P/logo3.png" || fail "BALENA_IMG=IMG splash --extract"
ok

expect_eq "$(outside "$img" "$b")" "$outside_before" "mbr-v8: bytes outside the boot partition"
fsck_fat "$img" "$b"

# splash/ removed: --extract finds nothing, splash creates the folder again
m mdeltree "$img" "$b" ::/splash || fail "mdeltree ::/splash failed"
absent "$img" "$b" /splash
sum2=$(checksum "$img")
refused 3 'splash' "$bin" splash "$img" --extract "$WORK/x4.png"
[ ! -e "$WORK/x4.png" ] || fail "--extract with no logo left a file behind"
ok
expect_eq "$(checksum "$img")" "$sum2" "mbr-v8 after --extract with no splash/"
ok0 "$bin" splash "$img" "$P/logo.png"
same "$img" "$b" "$target" "$P/logo.png"
m mdir "$img" "$b" -b ::/splash/ >"$WORK/ls" 2>&1 || fail "mdir ::/splash/: $(cat "$WORK/ls")"
expect_eq "$(cat "$WORK/ls")" "::/splash/balena-logo.png" "splash/ after it was created again"
fsck_fat "$img" "$b"
rm -f "$img"

# ================================================================ legacy-2.4x (2.44.0)
img=$(fixture legacy-2.4x)
b=$(fact legacy-2.4x boot_part)
target=/splash/resin-logo.png
expect_eq "$(fact legacy-2.4x splash)" "$target" "legacy-2.4x: the splash the fixture has"
outside_before=$(outside "$img" "$b")
get "$img" "$b" "$target" "$P/orig-legacy.png"
ok0 "$bin" splash "$img" --extract "$WORK/x5.png"
cmp -s "$WORK/x5.png" "$P/orig-legacy.png" || fail "--extract on legacy-2.4x"
ok
ok0 "$bin" splash "$img" "$P/logo.png"
expect_stdout "resin-boot:$target"
same "$img" "$b" "$target" "$P/logo.png"
absent "$img" "$b" /splash/balena-logo.png

# A PNG over the size the tool reads at all (21 MB of noise, more than the
# 40 MiB partition could hold twice) is refused, naming the file.
png "$P/huge.png" 2300 2300 noise 7
sum=$(checksum "$img")
refused 6 'huge.png' "$bin" splash "$img" "$P/huge.png"
expect_eq "$(checksum "$img")" "$sum" "legacy-2.4x after the 21 MB PNG"

# Headroom: with a 14 MiB file already in the boot partition (put there with
# mcopy), OS updates need 14 MiB + 512 KiB free after the change.
head -c 14680064 /dev/zero >"$WORK/fill.bin"
m mcopy "$img" "$b" "$WORK/fill.bin" ::/fill.bin || fail "mcopy fill.bin failed"
free_now=$(free_bytes "$img" "$b")
cl=$(cluster "$img" "$b")
[ "$free_now" -gt 0 ] && [ "$cl" -gt 0 ] || fail "mdir/minfo: free '$free_now', cluster '$cl'"
ondisk() { echo $(((($1) + cl - 1) / cl * cl)); }
old=$(ondisk "$(wc -c <"$P/logo.png")")
need=$(($(ondisk 14680064) + 524288))
# largest PNG that still fits: free_now + old - ondisk(png) >= need
limit=$((free_now + old - need))
echo "# legacy-2.4x: $free_now bytes free, cluster $cl, a PNG may take $limit bytes" >&2

png "$P/toobig.png" 1775 1775 noise 8           # about 12.6 MB
size=$(wc -c <"$P/toobig.png")
[ "$(ondisk "$size")" -gt "$limit" ] || fail "toobig.png ($size bytes) would fit; the test is wrong"
missing=$((need - (free_now + old - $(ondisk "$size"))))
sum=$(checksum "$img")
refused 6 'MiB missing' "$bin" splash "$img" "$P/toobig.png"
expect_stderr 'toobig.png\|resin-boot\|partition 1'
said=$(sed -n 's/.* \([0-9][0-9]*\.[0-9]\) MiB missing.*/\1/p' "$WORK/stderr")
[ -n "$said" ] || fail "no amount before 'MiB missing': $(cat "$WORK/stderr")"
awk -v s="$said" -v m="$missing" 'BEGIN { d = s - m / 1048576; exit !(d < 0.11 && d > -0.11) }' ||
        fail "says $said MiB missing, $missing bytes are: $(cat "$WORK/stderr")"
ok
expect_eq "$(checksum "$img")" "$sum" "legacy-2.4x after the PNG that leaves too little room"
refused 6 'MiB missing' "$bin" configure "$img" --splash "$P/toobig.png" --hostname roomy
expect_eq "$(checksum "$img")" "$sum" "legacy-2.4x after configure --splash with too little room"

png "$P/fits.png" 1700 1700 noise 9             # about 11.6 MB
size=$(wc -c <"$P/fits.png")
[ "$(ondisk "$size")" -le "$limit" ] || fail "fits.png ($size bytes) would not fit; the test is wrong"
ok0 "$bin" splash "$img" "$P/fits.png"
same "$img" "$b" "$target" "$P/fits.png"
expect_eq "$(outside "$img" "$b")" "$outside_before" "legacy-2.4x: bytes outside the boot partition"
fsck_fat "$img" "$b"
rm -f "$img"

# ================================================================ gpt-flasher
img=$(fixture gpt-flasher)
b=$(fact gpt-flasher boot_part)
target=/splash/balena-logo.png
expect_eq "$(m mlabel "$img" "$b" -s :: | sed 's/^ *Volume label is //; s/ *$//')" flash-boot \
        "gpt-flasher: label of partition $b"
outside_before=$(outside "$img" "$b")
ok0 "$bin" splash "$img" "$P/logo2.png"
expect_stdout "flash-boot:$target"
same "$img" "$b" "$target" "$P/logo2.png"
ok0 "$bin" splash "$img" --extract "$WORK/x6.png"
cmp -s "$WORK/x6.png" "$P/logo2.png" || fail "--extract on gpt-flasher"
ok
# a splash and a network profile in one configure run (the size check walks the
# partition after the profile was staged: this crashed once)
ok0 "$bin" configure "$img" --splash "$P/logo3.png" --wifi-ssid Shop --wifi-key secret123
same "$img" "$b" "$target" "$P/logo3.png"
get "$img" "$b" /system-connections/resin-wifi "$WORK/wifi"
grep -qx 'ssid=Shop' "$WORK/wifi" || fail "resin-wifi lacks ssid=Shop: $(cat "$WORK/wifi")"
ok
expect_eq "$(outside "$img" "$b")" "$outside_before" "gpt-flasher: bytes outside flash-boot"
fsck_fat "$img" "$b"

done_testing
