#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# verify: every good fixture passes (exit 0, text and --json agree); real bad
# inputs fail with exit 6 and the failing check named on its line and on
# stderr: a damaged FAT, an ext4 whose root inode debugfs cleared, MBR entries
# rewritten to overlap or to run past the image, a config.json the schema
# rejects, a broken NetworkManager profile, a redsocks.conf without its
# sections, a splash PNG with a flipped byte, a boot partition too full for an
# OS update (and a warning, still exit 0, when it is nearly so). The image is
# byte-identical after every run. The bad inputs are checked with the real
# tools first (fsck.fat, e2fsck, sfdisk), so the test cannot pass on a fixture
# that is not broken.
. "$top_srcdir/tests/lib.sh"

for t in sfdisk jq cksum mtype mcopy mdir debugfs e2fsck fsck.fat dd od; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

bin=$BALENA_IMG
unset BALENA_IMG

# verify_exit CODE IMG [ARGS]: run verify, expect CODE, and no byte of IMG changed
verify_exit() {
        want=$1 img=$2
        shift 2
        before=$(checksum "$img")
        expect_exit "$want" "$bin" verify "$img" "$@"
        expect_eq "$(checksum "$img")" "$before" "checksum of $(basename "$img") after verify"
}
# line STATUS NAME SUBJECT: the text report has that check
line() {
        grep -q "^$1 *$2 *$3 " "$WORK/stdout" ||
                fail "no '$1 $2 $3' line in the report: $(grep -v '^OK' "$WORK/stdout" | head -c 900)"
        ok
}

# ---- every good fixture passes ---------------------------------------------
good=0
for name in $(fixture_names); do
        [ -z "$(fact "$name" bad)" ] || continue
        img=$FIXTURES/$(fact "$name" file)
        verify_exit 0 "$img"
        expect_stdout '^Result: ok'
        ! grep -q '^FAIL' "$WORK/stdout" || fail "$name: a failed check in a passing report"
        text_checks=$(grep -c '^\(OK\|WARN\|FAIL\|SKIPPED\) ' "$WORK/stdout")
        fs_ok=$(grep -c '^OK *filesystem ' "$WORK/stdout")
        # every filesystem the table holds was checked: one filesystem line per
        # partition sfdisk lists, minus the MBR extended container
        parts=$(sfdisk -J "$img" | jq '[.partitiontable.partitions[] | select(.type != "f" and .type != "5")] | length')
        expect_eq "$(grep -c '^[A-Z]* *filesystem ' "$WORK/stdout")" "$parts" "$name: filesystem lines"
        verify_exit 0 "$img" --json
        jq -e '.passed == true and .counts.fail == 0 and .schema_version == 1' "$WORK/stdout" >/dev/null ||
                fail "$name: --json does not say passed: $(head -c 400 "$WORK/stdout")"
        expect_eq "$(jq '.checks | length' "$WORK/stdout")" "$text_checks" "$name: checks in --json vs text"
        expect_eq "$(jq -r '[.checks[] | select(.name == "filesystem" and .status == "ok")] | length' "$WORK/stdout")" \
                "$fs_ok" "$name: ok filesystem checks in --json vs text"
        good=$((good + 1))
done
[ "$good" -ge 6 ] || fail "only $good good fixtures found"

# a typical image: the checks that must be there, and ok
img=$(fixture mbr-v8)
verify_exit 0 "$img"
line OK partition-table 'partition table'
line OK filesystem "partition 1 'resin-boot'"
line OK filesystem "partition 2 'resin-rootA'"
line OK filesystem "partition 6 'resin-data'"
! grep -q '/dev/fd' "$WORK/stdout" || fail "the report names the checker's /dev/fd/3: $(grep /dev/fd "$WORK/stdout")"
ok
line OK config.json 'resin-boot:/config.json'
line OK headroom resin-boot
line OK splash 'resin-boot:/splash/balena-logo.png'

# ---- bad inputs --------------------------------------------------------------

# the damaged-fat fixture (boot sector zeroed in places): fsck.fat agrees it is broken
img=$(fixture damaged-fat)
dd if="$img" of="$WORK/part.fat" bs=1M skip=$(($(part_offset "$img" 1) / 1048576)) \
        count=$(($(part_size "$img" 1) / 1048576)) conv=sparse status=none
run fsck.fat -n "$WORK/part.fat"
[ "$RC" -ne 0 ] || fail "fsck.fat finds nothing wrong with damaged-fat: the fixture is not damaged"
rm -f "$WORK/part.fat"
verify_exit 6 "$img"
line FAIL filesystem 'partition 1'
expect_stderr "failed verification"
expect_stderr "filesystem"
expect_stdout '^Result: FAILED'
verify_exit 6 "$img" --json
expect_eq "$(jq -r '[.checks[] | select(.status == "fail") | .name] | first' "$WORK/stdout")" filesystem \
        "first failed check in --json"
expect_eq "$(jq -r '.passed' "$WORK/stdout")" false "passed in --json"

# ext4 whose root inode was cleared with debugfs (state partition, 5)
img=$(fixture mbr-v8)
off=$(part_offset "$img" 5)
debugfs -w -R "clri <2>" "$img?offset=$off" >/dev/null 2>&1 || fail "debugfs clri failed"
run e2fsck -fn "$img?offset=$off"
[ "$RC" -ne 0 ] || fail "e2fsck finds nothing wrong after clri <2>"
verify_exit 6 "$img"
line FAIL filesystem "partition 5 'resin-state'"
grep "^FAIL *filesystem *partition 5" "$WORK/stdout" | grep -q "e2fsck -fn exit" ||
        fail "the failure does not quote e2fsck: $(grep '^FAIL' "$WORK/stdout")"
ok
line OK filesystem "partition 6 'resin-data'"

# mbr_entry IMG N START SIZE: rewrite MBR entry N (1-4) by hand; sfdisk refuses
# to write overlapping or out-of-bounds partitions even with --force
le32() { v=$1; i=0; while [ $i -lt 4 ]; do printf "\\$(printf %03o $((v % 256)))"; v=$((v / 256)); i=$((i + 1)); done; }
mbr_entry() {
        { le32 "$3"; le32 "$4"; } | dd of="$1" bs=1 seek=$((446 + 16 * ($2 - 1) + 8)) conv=notrunc status=none
}

# partition 3 moved to start inside partition 2
img=$(fixture mbr-v8)
p2_end=$(( $(part_offset "$img" 2) / 512 + $(part_size "$img" 2) / 512 ))
mbr_entry "$img" 3 $((p2_end - 4096)) $(($(part_size "$img" 3) / 512))
expect_eq "$(sfdisk -J "$img" | jq ".partitiontable.partitions[2].start")" $((p2_end - 4096)) "sfdisk reads the new start"
verify_exit 6 "$img"
line FAIL partition-table 'partition 3'
expect_stdout 'partitions 2 and 3 overlap by 4096 sectors'
expect_stderr 'partition-table'

# partition 3 running 1 GiB past the end of the image
img=$(fixture mbr-v8)
mbr_entry "$img" 3 $(($(part_offset "$img" 3) / 512)) $(( $(stat -c %s "$img") / 512 + 2097152 ))
verify_exit 6 "$img"
line FAIL partition-table 'partition 3'
expect_stdout 'beyond the end of the image'
expect_stdout '^SKIPPED *image '
verify_exit 6 "$img" --json
expect_eq "$(jq -r '[.checks[] | select(.status == "fail")] | first | .name' "$WORK/stdout")" partition-table "--json"

# partitions shrunk under their filesystems: FAT (fsck.fat sees its copy end
# early) and ext4 (e2fsck reads on into the next partition; the superblock's
# size says it does not fit)
img=$(fixture mbr-v8)
mbr_entry "$img" 1 $(($(part_offset "$img" 1) / 512)) $(($(part_size "$img" 1) / 1024))
mbr_entry "$img" 2 $(($(part_offset "$img" 2) / 512)) $(($(part_size "$img" 2) / 1024))
verify_exit 6 "$img"
line FAIL filesystem "partition 1 'resin-boot'"
line FAIL filesystem "partition 2 'resin-rootA'"
expect_stdout 'the filesystem is 640.0 MiB but the partition only 320.0 MiB'
line OK filesystem "partition 3 'resin-rootB'"

# the truncated fixture: the same, found by its table
img=$FIXTURES/truncated.img
verify_exit 6 "$img"
line FAIL partition-table 'partition 2'

# put IMG HOSTFILE ::PATH: write a file into the boot partition with mtools
put() { m mcopy "$1" 1 -o -D o "$2" "$3" || fail "mcopy $3"; }

# config.json the schema rejects: a hostname with '_' and '!'
img=$(fixture mbr-v8)
m mtype "$img" 1 ::/config.json | jq '.hostname = "bad_host!"' >"$WORK/config.json"
put "$img" "$WORK/config.json" ::/config.json
verify_exit 6 "$img"
line FAIL config.json 'resin-boot:/config.json'
grep '^FAIL *config.json' "$WORK/stdout" | grep -q hostname || fail "the failure does not name the key"
ok
# and one that is not JSON at all
printf '{"hostname": "x",' >"$WORK/config.json"
put "$img" "$WORK/config.json" ::/config.json
verify_exit 6 "$img"
line FAIL config.json 'resin-boot:/config.json'

# a broken NetworkManager profile (Wi-Fi without an SSID) beside a good one
img=$(fixture mbr-v8)
printf '[connection]\nid=good\ntype=ethernet\n\n[ipv4]\nmethod=auto\n' >"$WORK/good"
put "$img" "$WORK/good" ::/system-connections/good
verify_exit 0 "$img"
line OK network 'resin-boot:/system-connections/good'
printf '[connection]\nid=broken\ntype=wifi\n\n[wifi]\nmode=infrastructure\n' >"$WORK/broken"
put "$img" "$WORK/broken" ::/system-connections/broken
verify_exit 6 "$img"
line FAIL network 'resin-boot:/system-connections/broken'
line OK network 'resin-boot:/system-connections/good'
expect_stderr '(network)'

# redsocks.conf without its sections
img=$(fixture mbr-v8)
printf 'hello\n' >"$WORK/redsocks.conf"
put "$img" "$WORK/redsocks.conf" ::/system-proxy/redsocks.conf
verify_exit 6 "$img"
line FAIL proxy 'resin-boot:/system-proxy/redsocks.conf'

# a splash PNG with one byte flipped in the middle (its CRC no longer matches)
img=$(fixture mbr-v8)
m mtype "$img" 1 ::/splash/balena-logo.png >"$WORK/logo.png"
size=$(stat -c %s "$WORK/logo.png")
b=$(od -An -tu1 -j $((size / 2)) -N1 "$WORK/logo.png" | tr -d ' ')
printf "\\$(printf %03o $((b ^ 255)))" | dd of="$WORK/logo.png" bs=1 seek=$((size / 2)) conv=notrunc status=none
put "$img" "$WORK/logo.png" ::/splash/balena-logo.png
verify_exit 6 "$img"
line FAIL splash 'resin-boot:/splash/balena-logo.png'

# headroom: free space against the largest boot file plus 512 KiB
img=$(fixture mbr-v8)
head -c 40M /dev/zero >"$WORK/big"
put "$img" "$WORK/big" ::/big.bin
verify_exit 0 "$img"            # ~59 MiB free, needs 40.5: less than twice that warns
line WARN headroom resin-boot
expect_stdout '^Result: ok, with warnings'
head -c 60M /dev/zero >"$WORK/big"
put "$img" "$WORK/big" ::/big.bin
verify_exit 6 "$img"            # ~39 MiB free, needs 60.5
line FAIL headroom resin-boot
grep '^FAIL *headroom' "$WORK/stdout" | grep -q '/big.bin' || fail "the failure does not name the largest file"
ok
rm -f "$WORK/big"

# ---- not images, and usage -----------------------------------------------------
expect_exit 3 "$bin" verify "$FIXTURES/no-table.img"
expect_one_line_error
expect_exit 3 "$bin" verify "$WORK/missing.img"
expect_one_line_error
expect_exit 2 "$bin" verify
expect_exit 2 "$bin" verify --bogus "$FIXTURES/mbr-v8.img"
expect_exit 0 "$bin" verify --help
expect_stdout 'deep'

done_testing
