#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Resource bounds on hostile input: a 50 MB config.json (given, and inside the
# image), JSON nested 2040 deep, 100,000 SSH keys, a PNG that claims 65535x65535
# pixels, a GPT with 128 tiny partitions, and a FAT whose cluster chains loop.
# Each ends within a time limit (a hang fails the test instead of stalling it),
# in 32 MiB of address space where it is refused, with one line naming the
# file, key or partition, its own exit code, and the image byte-identical. The
# same kinds of input within the limits still work, and fast.
. "$top_srcdir/tests/lib.sh"

for t in sfdisk jq cksum mcopy mdel mshowfat mtype mkfs.vfat od awk timeout ssh-keygen truncate; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done
need_mkpng

bin=$BALENA_IMG
D=$WORK/in
mkdir "$D"
MEM=32768               # KiB of address space for a refused input (a normal run needs ~16 MiB)
[ -z "${BIMG_SANITIZERS:-}" ] || MEM=-     # ASan reserves terabytes of shadow address space

# state IMG: size and mtime (ns), which any write moves (cheap: checked after
# every case); bytes IMG: a CRC of everything up to the end of the boot
# partition, partition 1 in every image here (checked after each section)
state() { stat -c '%s %y' "$1"; }
bytes() { head -c "$(($(part_offset "$1" 1) + $(part_size "$1" 1)))" "$1" | cksum; }

# bad SECS MEMORY CODE TEXT CMD...: CMD ends within SECS seconds (SIGTERM, then
# SIGKILL 5 s later) in MEMORY KiB of address space ('-': unlimited), exits CODE
# with one line on stderr matching TEXT, and leaves $img as it was
bad() {
        secs=$1 mem=$2 code=$3 text=$4
        shift 4
        before=$(state "$img")
        if [ "$mem" = - ]; then
                run timeout -k 5 "$secs" "$@"
        else
                run sh -c 'ulimit -v "$0" && exec "$@"' "$mem" timeout -k 5 "$secs" "$@"
        fi
        [ "$RC" -ne 124 ] && [ "$RC" -ne 137 ] || fail "$*: still running after $secs s"
        ok
        [ "$RC" -eq "$code" ] || fail "$*: exit $RC, want $code: $(head -c 600 "$WORK/stderr")"
        ok
        expect_one_line_error
        expect_stderr "$text"
        expect_eq "$(state "$img")" "$before" "$img after $*"
}
# good SECS CMD...: CMD succeeds within SECS seconds
good() {
        secs=$1
        shift
        run timeout -k 5 "$secs" "$@"
        [ "$RC" -eq 0 ] || fail "$*: exit $RC: $(head -c 600 "$WORK/stderr")"
        ok
}
# cfg IMG: config.json of the boot partition, read with mtype
cfg() { m mtype "$1" 1 ::/config.json; }

cache_part_tables
img=$(fixture mbr-v8)

# ---------------------------------------------------------------- oversized files
# a 1 GiB (sparse) file for every option that reads one: refused by its size,
# before a byte of it is read
b0=$(bytes "$img")
truncate -s 1G "$D/huge.json"
bad 10 $MEM 6 "'$D/huge.json' is 1024.0 MiB; the limit is 4.0 MiB" "$bin" configure "$img" --config "$D/huge.json"
bad 10 $MEM 6 "huge.json' is larger than 4 MiB" "$bin" config validate "$D/huge.json"
for o in ssh-key:1.0 root-ca:1.0 system-connection:1.0 proxy:1.0 no-proxy:1.0 splash:16.0; do
        ln -sf huge.json "$D/${o%:*}"
        bad 10 $MEM 6 "'$D/${o%:*}' is 1024.0 MiB; the limit is ${o#*:} MiB" \
                "$bin" configure "$img" "--${o%:*}" "$D/${o%:*}"
done
bad 10 $MEM 6 "the limit is 1.0 MiB" "$bin" configure "$img" --udev-rule "big=$D/huge.json"
bad 10 $MEM 6 "the limit is 16.0 MiB" "$bin" splash "$img" "$D/huge.json"
expect_eq "$(bytes "$img")" "$b0" "boot partition after the oversized files"

# ---------------------------------------------------------------- config.json of 50 MB
{
        printf '{"hostname": "big", "pad": "'
        head -c 52428800 /dev/zero | tr '\0' a
        printf '"}\n'
} >"$D/big.json"
bad 10 $MEM 6 "'$D/big.json' is 50.0 MiB; the limit is 4.0 MiB" "$bin" configure "$img" --config "$D/big.json"
# the same file as the image's own config.json (the boot partition holds it)
m mcopy "$img" 1 -o "$D/big.json" ::/config.json || fail "mcopy big.json failed"
b0=$(bytes "$img")
big="'/config.json' is 50.0 MiB; the limit is 4.0 MiB"
bad 10 $MEM 6 "partition 1 'resin-boot': $big" "$bin" config get "$img" hostname
bad 10 $MEM 6 "$big" "$bin" configure "$img" --hostname small
bad 10 $MEM 6 "$big" "$bin" config set "$img" hostname=small
bad 10 $MEM 6 "$big" "$bin" config validate "$img"
good 10 "$bin" info "$img"
expect_stdout "config.json: INVALID: .*$big"
expect_eq "$(bytes "$img")" "$b0" "boot partition after the 50 MB config.json"
# --replace-config puts a good one back
printf '{"deviceType": "raspberrypi4-64", "hostname": "small"}\n' >"$D/small.json"
good 10 "$bin" configure "$img" --config "$D/small.json" --replace-config
expect_eq "$(cfg "$img" | jq -r .hostname)" small "hostname after --replace-config"

# ---------------------------------------------------------------- JSON nested deep
# nest N: {"x": {"a": ... 1 ...}} with N objects inside the outer one
nest() { awk -v n="$1" 'BEGIN { printf "{\"x\": "; for (i = 1; i < n; i++) printf "{\"a\": ";
        printf "1"; for (i = 1; i <= n; i++) printf "}"; print "" }'; }
nest 2040 | sed 's/^{/{"hostname": "deep", /' >"$D/deep.json"      # under jansson's 2048
nest 200000 >"$D/deeper.json"                                          # over it
nest 32 >"$D/d32.json"
nest 33 >"$D/d33.json"
bad 10 - 6 "deep.json: 'x\.a\.a\.a.*' is nested more than 32 levels deep" "$bin" configure "$img" --config "$D/deep.json"
bad 10 - 6 "d33.json: 'x\.a.*' is nested more than 32 levels deep" "$bin" configure "$img" --config "$D/d33.json"
bad 10 - 6 "deep.json: 'x\.a.*' is nested more than 32 levels deep" "$bin" config validate "$D/deep.json"
bad 10 - 6 "deeper.json:1:.*maximum parsing depth" "$bin" configure "$img" --config "$D/deeper.json"
bad 10 - 6 "nested more than 32 levels" "$bin" configure "$img" --set "x=$(awk 'BEGIN { for (i = 0; i < 40; i++) printf "["; for (i = 0; i < 40; i++) printf "]" }')"
bad 10 - 6 "the key is longer than 255 characters" "$bin" configure "$img" --set "$(awk 'BEGIN { for (i = 0; i < 200; i++) printf "a."; printf "b" }')=1"
# 32 levels are allowed, and read back as written
good 10 "$bin" configure "$img" --config "$D/d32.json"
expect_eq "$(cfg "$img" | jq '[paths] | map(length) | max')" 32 "depth of config.json after d32.json"
# the image's own config.json nested 2040 deep: refused by every reader
m mcopy "$img" 1 -o "$D/deep.json" ::/config.json || fail "mcopy deep.json failed"
bad 10 - 6 "config.json: 'x\.a.*' is nested more than 32 levels deep" "$bin" config get "$img" hostname
good 10 "$bin" config show "$img"       # shown as it is
cmp -s "$WORK/stdout" "$D/deep.json" || fail "config show did not print the file as it is"
ok
bad 10 - 6 "nested more than 32 levels deep" "$bin" configure "$img" --hostname flat
good 10 "$bin" info "$img"
expect_stdout "config.json: INVALID: .*nested more than 32 levels deep"
good 10 "$bin" configure "$img" --config "$D/small.json" --replace-config

# ---------------------------------------------------------------- 100,000 SSH keys
# keys NAME N SEED: N distinct ed25519 public keys. The blob is 51 bytes: its
# first 21 (type and length) fix the first 28 base64 characters of a real key;
# the last 40 characters are the last 30 bytes of the key, here a counter.
ssh-keygen -q -t ed25519 -N '' -C k@test -f "$D/real" || fail "ssh-keygen failed"
prefix=$(cut -d' ' -f2 "$D/real.pub" | cut -c1-28)
keys() {
        awk -v n="$2" -v seed="$3" -v p="$prefix" 'BEGIN {
                b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                for (i = 0; i < n; i++) {
                        s = ""; v = i + seed * 1000000
                        for (j = 0; j < 8; j++) { s = s substr(b, v % 64 + 1, 1); v = int(v / 64) }
                        printf "ssh-ed25519 %sAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%s\n", p, s
                }
        }' >"$D/$1"
}
keys k100k.pub 100000 1
keys k10001.pub 10001 2
keys k10k.pub 10000 3
keys k5k.pub 5000 4
[ "$(sort -u "$D/k10k.pub" | wc -l)" -eq 10000 ] || fail "keys: not 10000 distinct lines"
ok
bad 10 $MEM 6 "k100k.pub' is 7.7 MiB; the limit is 1.0 MiB" "$bin" configure "$img" --ssh-key "$D/k100k.pub"
bad 10 - 6 "k10001.pub:10001: more than 10000 keys" "$bin" configure "$img" --ssh-key "$D/k10001.pub"
# 10,000 in 20 s at most (they were checked pairwise: 5 s for these, 17 s for two files)
keys_before=$(cfg "$img" | jq '.os.sshKeys // [] | length')
good 20 "$bin" configure "$img" --ssh-key "$D/k10k.pub"
expect_eq "$(cfg "$img" | jq '.os.sshKeys | length')" $((keys_before + 10000)) "keys after k10k.pub"
# all already there: nothing to write
sum=$(state "$img")
good 20 "$bin" configure "$img" --ssh-key "$D/k10k.pub" --ssh-key "$D/k10k.pub"
expect_eq "$(state "$img")" "$sum" "image after adding the same 10,000 keys again"
b0=$(bytes "$img")
bad 20 - 6 "'os.sshKeys' would hold more than 10000 keys" "$bin" configure "$img" --ssh-key "$D/k5k.pub"
expect_eq "$(bytes "$img")" "$b0" "boot partition after 10,000 keys and 5,000 more"
good 10 "$bin" configure "$img" --config "$D/small.json" --replace-config

# ---------------------------------------------------------------- PNG claims
"$MKPNG" "$D/claims-65535.png" 1 1 flat 1 65535 65535 || fail "mkpng failed"
"$MKPNG" "$D/claims-16384.png" 1 1 flat 1 16384 16384 || fail "mkpng failed"
bad 10 $MEM 6 "claims-65535.png' is 65535x65535 pixels, more than the 16384x16384 limit" "$bin" splash "$img" "$D/claims-65535.png"
bad 10 $MEM 6 "claims-65535.png' is 65535x65535 pixels" "$bin" configure "$img" --splash "$D/claims-65535.png"
bad 10 $MEM 6 "claims-16384.png' is 16384x16384 pixels, 1024 MiB decoded, more than the 256 MiB limit" "$bin" splash "$img" "$D/claims-16384.png"

# ---------------------------------------------------------------- 128 tiny partitions
# GPT: 127 partitions of 64 KiB, each a FAT of its own, then the boot partition
# (4 MiB, resin-boot) with the files of mbr-v8's
p128=$WORK/p128.img
truncate -s 16M "$p128"
{
        echo "label: gpt"
        echo "label-id: 5EB00128-0000-4000-8000-000000000128"
        i=0
        while [ $i -lt 127 ]; do
                echo "start=$((2048 + i * 128)), size=128, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
                i=$((i + 1))
        done
        echo "start=20480, size=8192, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=resin-boot"
} | sfdisk -q "$p128" || fail "sfdisk of 128 partitions failed"
mkfs.vfat -C "$WORK/tiny.fat" 64 >/dev/null || fail "mkfs.vfat tiny failed"
mkfs.vfat -n RESIN-BOOT -C "$WORK/boot.fat" 4096 >/dev/null || fail "mkfs.vfat boot failed"
for f in device-type.json config.json os-release; do
        m mtype "$img" 1 "::/$f" >"$WORK/$f" && mcopy -i "$WORK/boot.fat" "$WORK/$f" "::/$f" ||
                fail "copying $f to the 128-partition image failed"
done
i=0
while [ $i -lt 127 ]; do
        dd if="$WORK/tiny.fat" of="$p128" bs=512 seek=$((2048 + i * 128)) conv=notrunc status=none
        i=$((i + 1))
done
dd if="$WORK/boot.fat" of="$p128" bs=512 seek=20480 conv=notrunc status=none
img=$p128
good 10 "$bin" info --json "$img"
expect_eq "$(jq '.partitions | length' "$WORK/stdout")" 128 "partitions of p128.img"
expect_eq "$(jq -r '.device_type.slug // .device_type' "$WORK/stdout" | head -c 15)" raspberrypi4-64 "device type of p128.img"
bad 10 - 3 "has no partition '129'" "$bin" ls "$img:129/"
good 10 "$bin" ls "$img:127/"
good 10 "$bin" configure "$img" --hostname many
expect_eq "$(m mtype "$img" 128 ::/config.json | jq -r .hostname)" many "hostname in p128.img"

# ---------------------------------------------------------------- a FAT whose chains loop
img=$(fixture mbr-v8)
off=$(part_offset "$img" 1)
u16() { od -An -tu2 -j $((off + $1)) -N2 "$img" | tr -d ' '; }
bps=$(u16 11) rsv=$(u16 14) fatsz=$(u16 22)
nfats=$(od -An -tu1 -j $((off + 16)) -N1 "$img" | tr -d ' ')
# fat16_set CLUSTER VALUE: in every copy of the FAT
fat16_set() {
        k=0
        while [ "$k" -lt "$nfats" ]; do
                printf "$(printf '\\%03o\\%03o' $(($2 & 255)) $(($2 >> 8)))" |
                        dd of="$img" bs=1 seek=$((off + (rsv + k * fatsz) * bps + 2 * $1)) conv=notrunc status=none
                k=$((k + 1))
        done
}
# loop NAME: the last cluster of NAME's chain points back to its first
loop() {
        chain=$(m mshowfat "$img" 1 "::/$1") || fail "mshowfat $1 failed"
        first=$(echo "$chain" | sed 's/^[^<]*<\([0-9]*\).*/\1/')
        last=$(echo "$chain" | sed 's/.*[<-]\([0-9]*\)>.*/\1/')
        fat16_set "$last" "$first"
}
awk 'BEGIN { for (i = 0; i < 2500; i++) printf "%07d\n", i }' >"$D/big.bin"     # 20000 bytes
m mcopy "$img" 1 "$D/big.bin" ::/big.bin || fail "mcopy big.bin failed"
loop big.bin
# reading a looping chain ends at the file's size
good 20 "$bin" cat "$img:boot/big.bin"
cmp -s "$WORK/stdout" "$D/big.bin" || fail "cat of a looping chain gave other bytes"
ok
loop config.json
m mdel "$img" 1 ::/config.json || fail "mdel config.json failed"
# mtools 4.0.32's mdel then never ends on big.bin (and ignores SIGTERM): spawn.c
# stops it after 10 s of CPU time
b0=$(bytes "$img")
bad 60 - 4 "partition 1 'resin-boot': .*mdel was stopped after 10 s of CPU time.*the FAT filesystem is damaged" \
        "$bin" rm "$img:boot/big.bin"
expect_eq "$(bytes "$img")" "$b0" "boot partition after rm on a looping chain"
done_testing
