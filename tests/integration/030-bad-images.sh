#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every input that is not a usable balenaOS image is refused by info, ls, cat
# and cp alike: one line on stderr naming the problem, the exit code of its
# class (3 not found / not an image, 4 unsupported), no signal, and not one
# byte of the file changed.
. "$top_srcdir/tests/lib.sh"

for t in sfdisk gzip cksum jq; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

# The state of a file, to compare before and after. sha256 of a 1.7 GB sparse
# image takes 10 s here, so big files get cksum (CRC-32 and length, 0.6 s).
state() {
        if [ -d "$1" ]; then
                echo "folder: $(ls -A "$1" | tr '\n' ' ')"
        elif [ ! -e "$1" ]; then
                echo absent
        elif [ "$(stat -c %s "$1")" -lt 16777216 ]; then
                checksum "$1"
        else
                cksum <"$1"
        fi
}

# refused CODE TEXT CMD...: CMD fails with exit CODE (not killed by a signal)
# and one line of stderr that matches TEXT (grep BRE). $CASE names the input.
CASE=
refused() {
        code=$1 text=$2
        shift 2
        run "$@"
        [ "$RC" -lt 128 ] || fail "$CASE: $*: killed by signal $((RC - 128))"
        [ "$RC" -eq "$code" ] ||
                fail "$CASE: $*: exit $RC, want $code: $(head -c 600 "$WORK/stderr")"
        ok
        expect_one_line_error
        expect_stderr "$text"
}

# unchanged FILE BEFORE WHAT: FILE is as it was
unchanged() { expect_eq "$(state "$1")" "$2" "$CASE: $(basename "$1") after $3"; }

# bad FILE CODE TEXT [WCODE WTEXT]: info, info --json, ls, cat and a cp into the
# image all fail alike (the cps with WCODE/WTEXT when given) and leave FILE as it was
bad() {
        f=$1 code=$2 text=$3 wcode=${4:-$2} wtext=${5:-$3}
        before=$(state "$f")
        refused "$code" "$text" "$BALENA_IMG" info "$f"
        unchanged "$f" "$before" info
        refused "$code" "$text" "$BALENA_IMG" info --json "$f"
        refused "$code" "$text" "$BALENA_IMG" ls "$f:boot/"
        unchanged "$f" "$before" ls
        refused "$code" "$text" "$BALENA_IMG" cat "$f:1/config.json"
        unchanged "$f" "$before" cat
        refused "$wcode" "$wtext" "$BALENA_IMG" cp "$WORK/host.txt" "$f:1/x"
        unchanged "$f" "$before" cp
        refused "$wcode" "$wtext" "$BALENA_IMG" cp "$WORK/host.txt" "$f:boot/x"
        unchanged "$f" "$before" "cp to boot"
}

printf 'a host file\n' >"$WORK/host.txt"

# --- the bad fixtures: each kind of defect with its exit code and wording ---
n=0
for name in $(fixture_names); do
        kind=$(fact "$name" bad)
        # mbr-luks-rootA is readable (boot intact): 020 and the end of this test
        if [ -z "$kind" ] || [ "$name" = mbr-luks-rootA ]; then
                continue
        fi
        file=$(fact "$name" file)
        [ -f "$FIXTURES/$file" ] || fail "fixture '$file' was not generated"
        # A neutral name (same extension): "damaged-fat.img" would match 'damaged'.
        f=$WORK/input$n.${file##*.}
        CASE="fixture $file"
        echo "# $(basename "$f") is a copy of $file" >&2
        cp --sparse=always "$FIXTURES/$file" "$f"
        case $kind in
        empty) bad "$f" 3 'is empty' ;;
        png) bad "$f" 3 'PNG' ;;
        zip)
                # compressed inputs are unpacked: what is inside decides (the
                # fixture's balena.img is an image with a damaged FAT)
                bad "$f" 4 'damaged' 2 'is compressed; give -o'
                ;;
        truncated) bad "$f" 3 'is truncated' ;;
        no-table)
                bad "$f" 3 'partition table'
                refused 3 'filesystem' "$BALENA_IMG" info "$f"
                ;;
        damaged-fat) bad "$f" 4 'damaged' ;;
        luks)
                # Partition 1 is the unencrypted balena-efi FAT, boot (2) is LUKS.
                before=$(state "$f")
                refused 4 'LUKS' "$BALENA_IMG" info "$f"
                refused 4 'LUKS' "$BALENA_IMG" ls "$f:boot/"
                refused 4 'LUKS' "$BALENA_IMG" cat "$f:boot/config.json"
                refused 4 'LUKS' "$BALENA_IMG" cp "$WORK/host.txt" "$f:boot/x"
                unchanged "$f" "$before" "cp to the LUKS boot"
                refused 3 'does not exist' "$BALENA_IMG" cat "$f:1/config.json"
                # An installed secure-boot disk cannot be edited offline
                # (balenaos-spec.md §8.1, §9.7), not even its EFI partition.
                refused 4 'LUKS' "$BALENA_IMG" cp "$WORK/host.txt" "$f:1/x"
                unchanged "$f" "$before" "cp to balena-efi"
                ;;
        *) fail "fixture '$name' has bad=$kind, which this test does not know" ;;
        esac
        rm -f "$f"
        n=$((n + 1))
done
[ "$n" -ge 7 ] || fail "only $n bad fixtures"

# --- inputs made here ---
CASE="a missing file"
bad "$WORK/missing.img" 3 'No such file'
CASE="a folder"
mkdir "$WORK/notafile.img"
bad "$WORK/notafile.img" 3 'folder\|directory'

CASE="a gzip file"
head -c 4096 /dev/urandom >"$WORK/small"
gzip -c "$WORK/small" >"$WORK/x.img.gz"
bad "$WORK/x.img.gz" 3 'partition table' 2 'is compressed; give -o'

# 1 MiB of random bytes; bytes 510-511 zeroed so that they are never the MBR
# signature 55 AA by chance.
CASE="1 MiB of random bytes"
head -c 1M /dev/urandom >"$WORK/random.img"
printf '\000\000' | dd of="$WORK/random.img" bs=1 seek=510 conv=notrunc status=none
bad "$WORK/random.img" 3 'partition table'

# An MBR whose partition 1 (type 0x0e, FAT16 LBA) holds only zeros.
CASE="an MBR whose FAT partition is all zeros"
f=$WORK/zero-fat.img
truncate -s 64M "$f"
sfdisk --quiet --no-reread --no-tell-kernel "$f" >/dev/null <<'EOF' || fail "sfdisk failed"
label: dos
label-id: 0x5eb0dead
unit: sectors

start=2048, size=40960, type=e, bootable
start=43008, size=40960, type=83
EOF
before=$(state "$f")
refused 4 'damaged' "$BALENA_IMG" info "$f"
refused 4 'damaged' "$BALENA_IMG" ls "$f:1/"
refused 4 'damaged' "$BALENA_IMG" cat "$f:1/config.json"
refused 4 'damaged' "$BALENA_IMG" cp "$WORK/host.txt" "$f:1/x"
unchanged "$f" "$before" "info, ls, cat, cp"
rm -f "$f"

# --- partitions that hold nothing we can read, in readable images ---
CASE="the LUKS rootA of mbr-luks-rootA"
f=$(fixture mbr-luks-rootA)
before=$(state "$f")
refused 4 'LUKS' "$BALENA_IMG" ls "$f:rootA/"
refused 4 'LUKS' "$BALENA_IMG" cat "$f:rootA/etc/os-release"
refused 4 'LUKS' "$BALENA_IMG" cp "$WORK/host.txt" "$f:rootA/x"
unchanged "$f" "$before" "ls, cat, cp on the LUKS rootA"
rm -f "$f"

CASE="the unformatted state partition of gpt-flasher"
f=$(fixture gpt-flasher)
before=$(state "$f")
state_part=$(fact gpt-flasher state_part)
refused 4 'no recognisable filesystem' "$BALENA_IMG" ls "$f:$state_part/"
refused 4 'no recognisable filesystem' "$BALENA_IMG" ls "$f:state/"
refused 4 'no recognisable filesystem' "$BALENA_IMG" cp "$WORK/host.txt" "$f:state/x"
unchanged "$f" "$before" "ls, cp on the unformatted state partition"
rm -f "$f"

# --- GPT with the backup table gone ---
CASE="gpt-fat32 without its backup GPT"
f=$(fixture gpt-fat32)
expect_exit 0 "$BALENA_IMG" info --json "$f"
jq -c .partitions "$WORK/stdout" >"$WORK/partitions.intact"
sectors=$(($(stat -c %s "$f") / 512))

# Backup entries and header (the last 33 sectors) zeroed: the primary is used.
dd if=/dev/zero of="$f" bs=512 seek=$((sectors - 33)) count=33 conv=notrunc status=none
before=$(state "$f")
expect_exit 0 "$BALENA_IMG" info --json "$f"
expect_eq "$(jq -c .partitions "$WORK/stdout")" "$(cat "$WORK/partitions.intact")" \
        "partitions with the backup GPT zeroed"
unchanged "$f" "$before" "info (the backup GPT is not repaired)"

# Cut short by 8 sectors (backup header gone, every partition still inside the
# file) or by 40 (past the last usable LBA the header records): read as intact,
# or refused as truncated, never misread.
for cut in 8 40; do
        CASE="gpt-fat32 cut by $cut sectors"
        cp --sparse=always "$FIXTURES/gpt-fat32.img" "$f"
        truncate -s $(((sectors - cut) * 512)) "$f"
        before=$(state "$f")
        run "$BALENA_IMG" info --json "$f"
        if [ "$RC" -eq 0 ]; then
                expect_eq "$(jq -c .partitions "$WORK/stdout")" "$(cat "$WORK/partitions.intact")" \
                        "partitions of gpt-fat32 cut by $cut sectors"
        else
                refused 3 'truncated' "$BALENA_IMG" info --json "$f"
        fi
        unchanged "$f" "$before" "info on gpt-fat32 cut by $cut sectors"
done

# Cut inside rootB, like an interrupted download: truncated, as for MBR.
CASE="gpt-fat32 cut at 400 MiB"
cp --sparse=always "$FIXTURES/gpt-fat32.img" "$f"
truncate -s 400M "$f"
bad "$f" 3 'truncated'
rm -f "$f"

done_testing
