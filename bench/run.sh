#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/run.sh: the speed benchmark (`make bench`; bench/README.md says more).
# balena-img against four baselines doing the same edits on the same images,
# alternating, with the targets of issue 6 checked at the end.
#
# Environment (make bench sets the first four):
#   BALENA_IMG   the binary under test        RUNNER  bench/runner
#   FIXTURES     folder of make-images.sh output (mbr-v8.img)
#   MKPNG        tests/tools/mkpng (writes the splash PNG)
#   BENCH_RUNS=15 BENCH_WARMUP=2   counted and warm-up rounds of each case
#   BENCH_NODE=0                   skip the Node baseline
#   BENCH_GUESTFISH_RUNS=1         runs of guestfish (0 skips it)
#   BENCH_WORK=bench-work          scratch folder (images, npm install)
#   BENCH_RESULTS=bench/results.json
set -eu
export LC_ALL=C TZ=UTC MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null
PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "$0")" && pwd)
: "${BALENA_IMG:?set BALENA_IMG to the balena-img binary}" "${RUNNER:?set RUNNER}"
: "${FIXTURES:?set FIXTURES}" "${MKPNG:?set MKPNG}"
RUNS=${BENCH_RUNS:-15} WARMUP=${BENCH_WARMUP:-2}
GF_RUNS=${BENCH_GUESTFISH_RUNS:-1}
work=${BENCH_WORK:-bench-work}
results=${BENCH_RESULTS:-bench/results.json}
bin=$(cd "$(dirname "$BALENA_IMG")" && pwd)/$(basename "$BALENA_IMG")
unset BALENA_IMG        # the tool's default image: not here
mkdir -p "$work" "$(dirname "$results")"
work=$(cd "$work" && pwd)
rm -rf "$work/cases" "$work/v"
rm -f "$work"/*.img    # a variant skipped this time must not be checked on an older image
mkdir -p "$work/cases" "$work/v" "$work/in"

say() { printf '==> %s\n' "$*" >&2; }
for tool in sfdisk mcopy mtype jq ssh-keygen; do
        command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing" >&2; exit 1; }
done

# ---------------------------------------------------------------- images
say "images: $FIXTURES/mbr-v8.img (MBR v8 layout, 1.7 GB apparent, sparse) with 17 MB of firmware, and a 30 GB copy"
[ -f "$FIXTURES/mbr-v8.img" ] || { echo "bench: $FIXTURES/mbr-v8.img is missing" >&2; exit 1; }
base=$work/base-1.7G.img big=$work/base-30G.img
cp --sparse=always "$FIXTURES/mbr-v8.img" "$base"
# firmware as a real Raspberry Pi boot partition holds it (the fixture's files
# are stand-ins of a few bytes): 4 start*.elf, U-Boot as kernel8.img and 120
# overlays, about 17 MB of incompressible bytes that a change must not copy
fw=$work/firmware
rm -rf "$fw"
mkdir -p "$fw/overlays"
for f in start.elf:2950000 start4.elf:2250000 start4x.elf:2990000 start4db.elf:4790000 \
         kernel8.img:640000 bootcode.bin:52000; do
        head -c "${f#*:}" /dev/urandom >"$fw/${f%%:*}"
done
i=0
while [ $i -lt 120 ]; do
        head -c 30000 /dev/urandom >"$fw/overlays/overlay-$i.dtbo"
        i=$((i + 1))
done
boot=$(sfdisk -J "$base" | jq -r '.partitiontable.partitions[0] | "\(.start) \(.size)"')
boot_start=${boot% *} boot_sectors=${boot#* }
off=$((boot_start * 512))
mcopy -s -o -i "$base@@$off" "$fw"/* ::/
# the same layout at 30 GB apparent: the extended partition and resin-data, its
# last logical one, grown to the end of the file
cp --sparse=always "$base" "$big"
truncate -s 30G "$big"
echo ',+' | sfdisk -q --no-reread --no-tell-kernel -N 4 "$big" >/dev/null
echo ',+' | sfdisk -q --no-reread --no-tell-kernel -N 6 "$big" >/dev/null
# the boot partition stored dense, free space included (what unzip of a
# released image leaves: no holes), written over a fresh copy by the dense case
dense_boot=$work/boot-dense.bin
dd if="$base" of="$dense_boot" bs=512 skip="$boot_start" count="$boot_sectors" status=none

# ---------------------------------------------------------------- inputs
in=$work/in
rm -f "$in/k1" "$in/k2" "$in/k1.pub" "$in/k2.pub"
ssh-keygen -q -t ed25519 -N '' -C bench-key-1 -f "$in/k1"
ssh-keygen -q -t ed25519 -N '' -C bench-key-2 -f "$in/k2"
printf 'ACTION=="add", SUBSYSTEM=="net", ATTR{address}=="00:11:22:33:44:55", NAME="eth9"\n' \
        >"$in/99-net.rules"
"$MKPNG" "$in/logo.png" 160 48 noise 7      # about 30 KB, like a real logo
set -- configure IMG --hostname bench-01 --persistent-logging --country DE \
        --ntp-servers 'pool.ntp.org time.google.com' --dns-servers '1.1.1.1 8.8.8.8' \
        --ssh-key "$in/k1.pub" --ssh-key "$in/k2.pub" --udev-rule "$in/99-net.rules" \
        --wifi-ssid BenchNet --wifi-key 'correct horse' --splash "$in/logo.png"
configure_args=$work/configure.args     # one argument per line, IMG as a placeholder
printf '%s\n' "$@" >"$configure_args"
base_args() {   # base_args IMG [EXTRA...]: the configure arguments for IMG
        img=$1
        shift
        sed "s|^IMG\$|$img|" "$configure_args"
        [ $# -eq 0 ] || printf '%s\n' "$@"
}
shell_args="$in/k1.pub $in/k2.pub $in/99-net.rules BenchNet"

# What balena-img writes, once, for the floor (bare mcopy of the same bytes)
say "the floor's files: what balena-img configure writes"
floor=$work/floor
rm -rf "$floor" && mkdir -p "$floor/tree/system-connections" "$floor/tree/splash"
cp --sparse=always "$base" "$work/once.img"
base_args "$work/once.img" | tr '\n' '\0' | xargs -0 "$bin" >/dev/null
mtype -i "$work/once.img@@$off" ::config.json >"$floor/tree/config.json"
mtype -i "$work/once.img@@$off" ::system-connections/resin-wifi \
        >"$floor/tree/system-connections/resin-wifi"
mtype -i "$work/once.img@@$off" ::splash/balena-logo.png >"$floor/tree/splash/balena-logo.png"
cmp -s "$floor/tree/splash/balena-logo.png" "$in/logo.png" ||
        { echo "bench: balena-img did not write the splash as given" >&2; exit 1; }

# ---------------------------------------------------------------- node
node_dir=$work/node
node_ok=
if [ "${BENCH_NODE:-1}" = 0 ]; then
        node_why="BENCH_NODE=0"
elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        node_why="node or npm is not installed (Debian: apt-get install nodejs npm)"
else
        mkdir -p "$node_dir"
        cp "$here/baselines/node/package.json" "$node_dir/package.json"
        if [ -d "$node_dir/node_modules/balena-config-json" ] ||
           (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error \
                >"$node_dir/npm.log" 2>&1); then
                node_ok=1
        else
                node_why="npm install of balena-image-fs and balena-config-json failed " \
                         "(registry unreachable?): see $node_dir/npm.log"
        fi
fi
[ -n "$node_ok" ] || say "Node baseline skipped: $node_why"
export NODE_PATH=$node_dir/node_modules

# ---------------------------------------------------------------- variants
# variant FILE NAME PREPARE ARG...: a variant file for the runner
variant() {
        f=$work/v/$1 name=$2 prep=$3
        shift 3
        { echo "name=$name"; [ -z "$prep" ] || echo "prepare=$prep"; printf 'arg=%s\n' "$@"; } >"$f"
        echo "$f"
}
# fresh SRC IMG: a prepare command putting a fresh sparse copy of SRC at IMG,
# then syncing the whole filesystem: what the run before left unwritten (the
# baselines never sync) would otherwise be written out by the next fsync, and
# paid for by whichever variant runs next
fresh() { echo "cp --sparse=always '$1' '$2' && sync -f '$2'"; }
shell=$here/baselines/shell-mtools-jq.sh
gf=$here/baselines/guestfish.sh
flr=$here/baselines/floor.sh
nodejs=$here/baselines/node/baseline.js

run_case() {    # run_case NAME VARIANT_FILE...
        name=$1
        shift
        say "case: $name"
        "$RUNNER" "$name" "$RUNS" "$WARMUP" "$work/cases/$name.json" "$@"
}

# everything made above (images, firmware, npm install: hundreds of megabytes)
# reaches the disk before the first timed round, not during the read-only cases
sync
# info and config get read the image: no prepare
set -- "$(variant info-a balena-img '' "$bin" info "$base")" \
       "$(variant info-b shell-mtools-jq '' "$shell" info "$base")"
[ -z "$node_ok" ] || set -- "$@" "$(variant info-c node '' node "$nodejs" info "$base")"
set -- "$@" "$(variant info-d floor '' "$flr" read "$base" "$off" device-type.json os-release config.json)"
run_case info "$@"

set -- "$(variant get-a balena-img '' "$bin" config get "$base" deviceType)" \
       "$(variant get-b shell-mtools-jq '' "$shell" get "$base" deviceType)"
[ -z "$node_ok" ] || set -- "$@" "$(variant get-c node '' node "$nodejs" get "$base" deviceType)"
set -- "$@" "$(variant get-d floor '' "$flr" read "$base" "$off" config.json)"
run_case config-get "$@"

# configure in place: every variant edits its own fresh copy
vimg() { echo "$work/$1.img"; }
mkv_configure() {       # mkv_configure CASE SRC: the in-place configure variants
        c=$1 src=$2
        a=$(vimg "$c-a")
        base_args "$a" | sed 's/^/arg=/' | { echo "name=balena-img"; echo "prepare=$(fresh "$src" "$a")"; echo "arg=$bin"; cat; } >"$work/v/$c-a"
        echo "$work/v/$c-a"
        # shellcheck disable=SC2086 # shell_args holds several words
        variant "$c-b" shell-mtools-jq "$(fresh "$src" "$(vimg "$c-b")")" \
                "$shell" configure "$(vimg "$c-b")" bench-01 $shell_args 'correct horse' "$in/logo.png"
        # shellcheck disable=SC2086
        [ -z "$node_ok" ] || variant "$c-c" node "$(fresh "$src" "$(vimg "$c-c")")" \
                node "$nodejs" configure "$(vimg "$c-c")" bench-01 $shell_args 'correct horse' "$in/logo.png"
        variant "$c-d" floor "$(fresh "$src" "$(vimg "$c-d")")" \
                "$flr" write "$(vimg "$c-d")" "$off" "$floor/tree"
        variant "$c-e" floor-single "$(fresh "$src" "$(vimg "$c-e")")" \
                "$flr" write-single "$(vimg "$c-e")" "$off" "$floor/tree"
}
# shellcheck disable=SC2046 # one variant file per line
run_case configure $(mkv_configure configure "$base")

# configure -o to a raw sparse output: the image is only read
out=$work/out.img
b=$work/o-b.img c=$work/o-c.img d=$work/o-d.img
{ echo "name=balena-img"; echo "prepare=rm -f '$out'"; echo "arg=$bin";
  base_args "$base" -o "$out" | sed 's/^/arg=/'; } >"$work/v/o-a"
set -- "$work/v/o-a"
# shellcheck disable=SC2086
set -- "$@" "$(variant o-b shell-mtools-jq "rm -f '$b'" "$here/baselines/copy-then.sh" "$base" "$b" \
        "$shell" configure "$b" bench-01 $shell_args 'correct horse' "$in/logo.png")"
# shellcheck disable=SC2086
[ -z "$node_ok" ] || set -- "$@" "$(variant o-c node "rm -f '$c'" "$here/baselines/copy-then.sh" \
        "$base" "$c" node "$nodejs" configure "$c" bench-01 $shell_args 'correct horse' "$in/logo.png")"
set -- "$@" "$(variant o-d floor "rm -f '$d'" "$here/baselines/copy-then.sh" "$base" "$d" \
        "$flr" write "$d" "$off" "$floor/tree")"
run_case configure-output "$@"

# splash alone
s=$(vimg splash-a)
set -- "$(variant splash-a balena-img "$(fresh "$base" "$s")" "$bin" splash "$s" "$in/logo.png")" \
       "$(variant splash-b shell-mtools-jq "$(fresh "$base" "$(vimg splash-b)")" "$shell" splash \
                "$(vimg splash-b)" "$in/logo.png")"
[ -z "$node_ok" ] || set -- "$@" "$(variant splash-c node "$(fresh "$base" "$(vimg splash-c)")" \
        node "$nodejs" splash "$(vimg splash-c)" "$in/logo.png")"
set -- "$@" "$(variant splash-d floor "$(fresh "$base" "$(vimg splash-d)")" "$flr" splash \
        "$(vimg splash-d)" "$off" "$in/logo.png")"
run_case splash "$@"

# the same configure on 1.7 GB and on 30 GB apparent size
g1=$(vimg size-a) g2=$(vimg size-b)
{ echo "name=balena-img-1.7GB"; echo "prepare=$(fresh "$base" "$g1")"; echo "arg=$bin";
  base_args "$g1" | sed 's/^/arg=/'; } >"$work/v/size-a"
{ echo "name=balena-img-30GB"; echo "prepare=$(fresh "$big" "$g2")"; echo "arg=$bin";
  base_args "$g2" | sed 's/^/arg=/'; } >"$work/v/size-b"
g3=$(vimg size-c)
{ echo "name=balena-img-dense-boot"
  echo "prepare=cp --sparse=always '$base' '$g3' && dd if='$dense_boot' of='$g3' bs=512 seek=$boot_start conv=notrunc status=none && sync -f '$g3'"
  echo "arg=$bin"; base_args "$g3" | sed 's/^/arg=/'; } >"$work/v/size-c"
run_case configure-size "$work/v/size-a" "$work/v/size-b" "$work/v/size-c"

# what the two libraries loaded on demand cost the same configure: without the
# Wi-Fi profile (no libnm), and without the SSH keys too (no libcrypto)
parts() {       # parts FILE NAME SED-SCRIPT: a variant of the configure, edited
        p=$(vimg "$1")
        { echo "name=$2"; echo "prepare=$(fresh "$base" "$p")"; echo "arg=$bin";
          base_args "$p" | sed "$3" | sed 's/^/arg=/'; } >"$work/v/$1"
        echo "$work/v/$1"
}
run_case configure-parts "$(parts parts-a balena-img '')" \
        "$(parts parts-b balena-img-no-wifi '/^--wifi-/,+1d')" \
        "$(parts parts-c balena-img-no-wifi-no-ssh '/^--wifi-/,+1d; /^--ssh-key$/,+1d')"

# guestfish, once or twice: the heavyweight anchor
if [ "$GF_RUNS" -gt 0 ] && command -v guestfish >/dev/null; then
        g=$(vimg gf)
        say "guestfish ($GF_RUNS run(s), no KVM: the first builds its appliance, about 2 minutes)"
        # shellcheck disable=SC2086
        v=$(variant gf guestfish "$(fresh "$base" "$g")" "$gf" configure "$g" bench-01 \
                $shell_args 'correct horse' "$in/logo.png")
        "$RUNNER" configure-guestfish "$GF_RUNS" 0 "$work/cases/configure-guestfish.json" "$v"
elif [ "$GF_RUNS" -gt 0 ]; then
        say "guestfish baseline skipped: guestfish is not installed (apt-get install guestfish," \
            "or BALENA_IMG_DEEP=1 ./setup.sh)"
fi

# ---------------------------------------------------------------- checks
# every baseline made the same config.json keys as balena-img (the floor wrote
# balena-img's own bytes)
say "checking that the baselines made the same edits"
want=$(mtype -i "$work/configure-a.img@@$off" ::config.json | jq -S .)
for v in b c d e; do
        f=$work/configure-$v.img
        [ -f "$f" ] || continue
        got=$(mtype -i "$f@@$off" ::config.json | jq -S .)
        [ "$got" = "$want" ] || { echo "bench: configure-$v.img has another config.json" >&2; exit 1; }
        mtype -i "$f@@$off" ::splash/balena-logo.png | cmp -s - "$in/logo.png" ||
                { echo "bench: configure-$v.img has another splash" >&2; exit 1; }
done

# ---------------------------------------------------------------- targets
jq -s -f "$here/targets.jq" "$work"/cases/*.json >"$results"
say "results: $results"
jq -r '"\nTargets (issue 6)", (.targets[] |
        "  \(if .met then "met   " else "MISSED" end)  \(.name): \(.value) (limit \(.limit))")' \
        "$results"
