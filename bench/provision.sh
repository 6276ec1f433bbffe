#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# provision.sh [-n DEVICES] [-j JOBS] [BALENA_IMG_BINARY]
#
# Provisioning benchmark: DEVICES images (default 100), each with its own
# hostname and uuid plus shared settings (persistent logging, one SSH key),
# made from one MBR fixture image of real size (about 1.7 GB apparent, sparse),
# once as raw sparse .img outputs and once as .img.zst.  It times
# 'balena-img batch' and, for comparison, a hand-written loop doing the same
# work with public tools (cp --sparse=always, mtools, jq, zstd), serially and
# in parallel with xargs -P JOBS.  The table goes to stdout, progress to stderr.
#
# BALENA_IMG_BINARY defaults to $BALENA_IMG_BIN, else build/balena-img under
# the repository top.  The base image is $FIXTURES/mbr-v8.img, else
# build/fixtures/out/mbr-v8.img, else it is made with fixtures/make-images.sh.
# Everything is written under a work directory in ${TMPDIR:-/tmp}, removed at
# exit.
set -eu -o pipefail

prog=provision.sh
note() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { note "$*"; exit 1; }
usage() { echo "usage: $prog [-n DEVICES] [-j JOBS] [BALENA_IMG_BINARY]" >&2; exit 2; }

export LC_ALL=C TZ=UTC PATH=$PATH:/usr/sbin:/sbin
# mtools: no user configuration, no FAT geometry check on partition offsets.
export MTOOLSRC=/dev/null MTOOLS_SKIP_CHECK=1

top=$(cd "$(dirname "$0")/.." && pwd)
n=100
jobs=$(nproc)
while getopts n:j:h opt; do
        case $opt in
        n) n=$OPTARG ;;
        j) jobs=$OPTARG ;;
        *) usage ;;
        esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
bin=${1:-${BALENA_IMG_BIN:-$top/build/balena-img}}
case $n in '' | *[!0-9]* | 0*) die "DEVICES must be a positive integer: '$n'" ;; esac
case $jobs in '' | *[!0-9]* | 0*) die "JOBS must be a positive integer: '$jobs'" ;; esac

for t in cp mtype mcopy jq zstd sfdisk ssh-keygen xargs du awk; do
        command -v "$t" >/dev/null 2>&1 || die "'$t' not found"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/provision-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP

# --- Base image and the offset of its boot partition ------------------------

base=
for f in ${FIXTURES:+"$FIXTURES/mbr-v8.img"} "$top/build/fixtures/out/mbr-v8.img"; do
        if [ -f "$f" ]; then base=$f; break; fi
done
if [ -z "$base" ]; then
        note "no fixture image found; running fixtures/make-images.sh (takes a while)"
        "$top/fixtures/make-images.sh" "$work/fixtures" >&2
        base=$work/fixtures/mbr-v8.img
fi
# The .facts file written with the fixture knows the offset; otherwise take
# the bootable (else the first) partition from the partition table.
facts=${base%.img}.facts
offset=
if [ -f "$facts" ]; then
        offset=$(sed -n 's/^boot_offset=\([0-9][0-9]*\)$/\1/p' "$facts")
fi
if [ -z "$offset" ]; then
        offset=$(sfdisk -J "$base" | jq -r '.partitiontable |
                ((.partitions | map(select(.bootable)) + .)[0].start) * (.sectorsize // 512)')
fi
devtype=$(mtype -i "$base@@$offset" ::/config.json | jq -r .deviceType) ||
        die "no config.json in the boot partition of '$base' at offset $offset"
size=$(stat -c %s "$base")
note "base $base: $((size / 1048576)) MiB apparent, $(du -k "$base" | cut -f1) KiB on disk, device type $devtype, boot partition at $offset"

# --- Inputs: SSH key and the batch manifests --------------------------------

ssh-keygen -t ed25519 -N '' -q -C provision-bench -f "$work/key"
key=$(cat "$work/key.pub")

host_of() { printf 'dev-%03d' "$1"; }
uuid_of() { printf '%032x' "$1"; }

for i in $(seq 1 "$n"); do
        printf '{"device_type":"%s","hostname":"%s","uuid":"%s"}\n' \
                "$devtype" "$(host_of "$i")" "$(uuid_of "$i")"
done >"$work/devices.jsonl"

# MANIFEST OUTPUT-PATTERN: one manifest per output format, both in $work so
# that the relative key.pub and out/ paths resolve there.
manifest()
{
        jq -n --arg dt "$devtype" --arg base "$base" --arg out "$2" \
                --slurpfile devices "$work/devices.jsonl" '{
                images: {($dt): $base},
                output: $out,
                settings: {"persistent-logging": true, "ssh-key": ["key.pub"]},
                devices: $devices
        }' >"$1"
}
manifest "$work/raw.json" "out/{hostname}.img"
manifest "$work/zst.json" "out/{hostname}.img.zst"

# --- Helpers -----------------------------------------------------------------

now() { date +%s.%N; }

# DIR SUFFIX: every device's output is there (raw ones with the base's size).
check_all()
{
        local i f
        for i in $(seq 1 "$n"); do
                f=$1/$(host_of "$i")$2
                [ -s "$f" ] || die "missing output $f"
                if [ "$2" = .img ] && [ "$(stat -c %s "$f")" != "$size" ]; then
                        die "$f is not $size bytes"
                fi
        done
}

# DIR SUFFIX: the last device's config.json carries what was asked for.
spot_check()
{
        local host uuid img
        host=$(host_of "$n") uuid=$(uuid_of "$n")
        img=$1/$host$2
        if [ "$2" = .img.zst ]; then
                # zstd writes a sparse file when the output is a file.
                zstd -q -d -f "$img" -o "$work/check.img"
                img=$work/check.img
        fi
        mtype -i "$img@@$offset" ::/config.json |
                jq -e --arg h "$host" --arg u "$uuid" --arg k "$key" \
                        '.hostname == $h and .uuid == $u and .persistentLogging == true
                         and any(.os.sshKeys[]?; startswith($k | split(" ")[0:2] | join(" ")))' >/dev/null ||
                die "spot check failed: config.json of $1/$host$2 lacks hostname/uuid/settings"
        rm -f "$work/check.img"
}

# Results, one line per variant: name seconds disk-KiB apparent-KiB.
: >"$work/results"
# NAME DIR START END: record a variant, then drop its outputs to save space.
record()
{
        local kib app
        kib=$(du -sk "$2" | cut -f1)
        app=$(du -sk --apparent-size "$2" | cut -f1)
        printf '%s %s %s %s\n' "$1" "$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.3f", b - a }')" \
                "$kib" "$app" >>"$work/results"
        rm -rf "$2"
        # Write back dirty pages now, so the next variant does not pay for them.
        sync
}

# The hand-written provisioning of one device: IDX DIR ZST(yes|no) THREADS.
# Exported for xargs; serial and parallel runs use the very same steps.
edit_one()
{
        local host uuid out
        host=$(printf 'dev-%03d' "$1") uuid=$(printf '%032x' "$1")
        out=$2/$host.img
        cp --sparse=always "$BENCH_BASE" "$out"
        mtype -i "$out@@$BENCH_OFFSET" ::/config.json |
                jq -c --arg h "$host" --arg u "$uuid" --arg k "$BENCH_KEY" \
                        '.hostname = $h | .uuid = $u | .persistentLogging = true | .os.sshKeys = [$k]' \
                        >"$out.json"
        mcopy -o -i "$out@@$BENCH_OFFSET" "$out.json" ::/config.json
        rm -f "$out.json"
        if [ "$3" = yes ]; then
                zstd -q "-T$4" --rm "$out"
        fi
}
export -f edit_one
export BENCH_BASE=$base BENCH_OFFSET=$offset BENCH_KEY=$key

# NAME ZST(yes|no): the baseline, serial then with xargs -P $jobs.
baseline()
{
        local dir=$work/out suffix=.img t0 t1 i
        [ "$2" = no ] || suffix=.img.zst

        note "baseline $1, serial: $n devices"
        mkdir -p "$dir"
        t0=$(now)
        for i in $(seq 1 "$n"); do
                edit_one "$i" "$dir" "$2" 0
        done
        t1=$(now)
        check_all "$dir" "$suffix"
        spot_check "$dir" "$suffix"
        record "cp+mtools+jq-serial-$1" "$dir" "$t0" "$t1"

        note "baseline $1, xargs -P $jobs: $n devices"
        mkdir -p "$dir"
        t0=$(now)
        seq 1 "$n" | xargs -P "$jobs" -I{} bash -c 'set -eu -o pipefail; edit_one "$@"' _ {} "$dir" "$2" 1
        t1=$(now)
        check_all "$dir" "$suffix"
        spot_check "$dir" "$suffix"
        record "cp+mtools+jq-xargs-P$jobs-$1" "$dir" "$t0" "$t1"
}

# NAME MANIFEST SUFFIX
batch()
{
        local dir=$work/out t0 t1
        note "balena-img batch $1: $n devices, -j $jobs"
        mkdir -p "$dir"
        t0=$(now)
        # Its per-device lines would mix with the table: --quiet where the
        # binary has it, else stdout goes away (errors still reach stderr).
        "$bin" batch "$2" -j "$jobs" --no-checksum $quiet >"$quiet_out" ||
                die "balena-img batch failed on $2"
        t1=$(now)
        check_all "$dir" "$3"
        spot_check "$dir" "$3"
        record "balena-img-batch-$1" "$dir" "$t0" "$t1"
}

# --- Runs ----------------------------------------------------------------------

have_batch=no quiet='' quiet_out=/dev/stderr
if [ -x "$bin" ] && "$bin" batch --help >"$work/batch-help" 2>&1; then
        have_batch=yes
        if grep -q -e '--quiet' "$work/batch-help"; then
                quiet=--quiet
        else
                quiet_out=/dev/null
        fi
else
        note "balena-img batch not available ($bin); running the baseline only"
fi

# Read the base once, so that no variant pays for a cold page cache alone.
cat "$base" >/dev/null

for fmt in raw zst; do
        [ "$have_batch" = no ] || batch "$fmt" "$work/$fmt.json" "$([ $fmt = raw ] && echo .img || echo .img.zst)"
        baseline "$fmt" "$([ $fmt = raw ] && echo no || echo yes)"
done

# --- Report --------------------------------------------------------------------

echo "# $n devices from $(basename "$base") ($((size / 1048576)) MiB apparent), jobs=$jobs, $(nproc) CPUs"
echo "# ratio = baseline seconds / balena-img batch seconds for the same output format"
awk -v n="$n" '
        { name[NR] = $1; secs[NR] = $2; kib[NR] = $3; app[NR] = $4
          fmt = $1; sub(/.*-/, "", fmt)
          if ($1 ~ /^balena-img/) ref[fmt] = $2 }
        END {
          printf "%-28s %7s %9s %9s %7s %12s %14s\n", "variant", "devices", "seconds",
                 "images/s", "ratio", "disk_KiB", "apparent_KiB"
          for (i = 1; i <= NR; i++) {
                fmt = name[i]; sub(/.*-/, "", fmt)
                r = "-"
                if (name[i] !~ /^balena-img/) {
                        r = "n/a"
                        if ((fmt in ref) && ref[fmt] > 0)
                                r = sprintf("%.2f", secs[i] / ref[fmt])
                }
                ips = secs[i] > 0 ? n / secs[i] : 0
                printf "%-28s %7d %9.2f %9.2f %7s %12d %14d\n", name[i], n, secs[i], ips, r, kib[i], app[i]
          }
        }' "$work/results"
