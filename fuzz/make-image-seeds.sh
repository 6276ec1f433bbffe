#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Writes the seeds of fuzz_image (fuzz/corpus/image/*): tiny disk images with
# the shapes balenaOS uses, cut short where the rest would be zeros, so the
# checked-in corpus stays small. Run by hand when the seeds should change:
#   sh fuzz/make-image-seeds.sh fuzz/corpus/image
set -eu
out=${1:?usage: make-image-seeds.sh DIR}
PATH=$PATH:/usr/sbin:/sbin
export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null E2FSPROGS_FAKE_TIME=1600000000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

ext() {         # ext FILE LABEL: the first 4 KiB of a 64 KiB ext4 (its superblock)
        truncate -s 64K "$tmp/e"
        mkfs.ext4 -q -F -L "$2" -U 11111111-2222-3333-4444-555555555555 \
                -E hash_seed=11111111-2222-3333-4444-555555555555 -b 1024 -N 16 "$tmp/e" 64 2>/dev/null
        dd if="$tmp/e" of="$1" bs=4096 count=1 status=none
        rm -f "$tmp/e"
}
put() {         # put IMG FILE SECTOR
        dd if="$2" of="$1" bs=512 seek="$3" conv=notrunc status=none
}

# MBR, labels resin-*: boot (FAT cut after its root folder), rootA, rootB, and
# state as a logical partition; the FAT is cut after its root folder (blkid
# reads the label there), each ext4 holds only its superblock
rm -f "$tmp/fatl"
mkfs.vfat -C "$tmp/fatl" 48 -r 16 -s 1 -i 12345678 -n RESIN-BOOT >/dev/null
head -c 2048 "$tmp/fatl" >"$tmp/fat4"
ext "$tmp/ra" resin-rootA
ext "$tmp/rb" resin-rootB
ext "$tmp/st" resin-state
img=$out/mbr-balena
truncate -s 0 "$img"; truncate -s $((48 * 512)) "$img"
sfdisk -q "$img" >/dev/null <<SF
label: dos
label-id: 0x1234abcd
start=8, size=8, type=e, bootable
start=16, size=8, type=83
start=24, size=8, type=83
start=32, size=16, type=f
start=40, size=8, type=83
SF
put "$img" "$tmp/fat4" 8
put "$img" "$tmp/ra" 16
put "$img" "$tmp/rb" 24
put "$img" "$tmp/st" 40

# GPT (4-entry table, so the entry array is one sector), names resin-* and
# labels flash-*, a fake LUKS1 header in rootA, nothing in state
ext "$tmp/fb" flash-rootB
printf 'LUKS\272\276\000\001aes\000' >"$tmp/luks"
truncate -s 1024 "$tmp/luks"
img=$out/gpt-flasher
truncate -s 0 "$img"; truncate -s $((48 * 512)) "$img"
sfdisk -q "$img" >/dev/null <<SF
label: gpt
label-id: 01234567-89AB-CDEF-0123-456789ABCDEF
table-length: 4
first-lba: 4
start=4, size=8, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=resin-boot
start=12, size=8, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=resin-rootA
start=20, size=16, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=resin-rootB
start=36, size=8, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=resin-state
SF
put "$img" "$tmp/fat4" 4
put "$img" "$tmp/luks" 12
put "$img" "$tmp/fb" 20

# MBR with one unlabelled FAT holding /device-type.json: the boot role comes
# from balena's fallback (mtools reads the folder)
rm -f "$tmp/fatu"
mkfs.vfat -C "$tmp/fatu" 48 -r 16 -s 1 -i 12345678 >/dev/null
printf '{"slug":"raspberrypi3","name":"Raspberry Pi 3","arch":"armv7hf"}\n' >"$tmp/dt.json"
mcopy -i "$tmp/fatu" "$tmp/dt.json" ::/device-type.json
img=$out/mbr-fallback
truncate -s 0 "$img"; truncate -s $((97 * 512)) "$img"
printf 'label: dos\nlabel-id: 0x0badcafe\nstart=1, size=96, type=c\n' | sfdisk -q "$img" >/dev/null
put "$img" "$tmp/fatu" 1
