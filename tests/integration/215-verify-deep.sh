#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# verify --deep: a real kernel (libguestfs appliance, one launch) mounts every
# FAT and ext filesystem read-only and lists its top folder; the listings match
# what mdir and debugfs see; a filesystem the kernel refuses (an unknown
# incompat feature bit set with debugfs) fails the run with exit 6; the image
# is byte-identical. A --deep that cannot run is never a pass: exit 4 with the
# reason (checked with an unusable LIBGUESTFS_BACKEND, which starts no VM).
# Skips (77) only when libguestfs is missing or its appliance cannot start here.
. "$top_srcdir/tests/lib.sh"

for t in jq cksum mdir debugfs; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done

bin=$BALENA_IMG
# the tool's default (QEMU without KVM) works everywhere; a KVM that hangs would
# hang the test
unset BALENA_IMG LIBGUESTFS_BACKEND_SETTINGS
limit=
command -v timeout >/dev/null 2>&1 && limit="timeout 900"

img=$(fixture mbr-v8)
before=$(checksum "$img")

# --deep that cannot run: exit 4, said on its line and on stderr (no VM starts)
set +e
LIBGUESTFS_BACKEND=bogus "$bin" verify --deep "$img" >"$WORK/stdout" 2>"$WORK/stderr"
RC=$?
set -e
expect_eq "$RC" 4 "exit status of a --deep that cannot run"
expect_stdout '^SKIPPED *deep '
expect_stdout '^Result: INCOMPLETE'
expect_stderr '\-\-deep could not run'
expect_one_line_error_on_stderr() { [ "$(wc -l <"$WORK/stderr")" -eq 1 ] || fail "stderr: $(cat "$WORK/stderr")"; ok; }
expect_one_line_error_on_stderr
set +e
LIBGUESTFS_BACKEND=bogus "$bin" verify --deep --json "$img" >"$WORK/stdout" 2>"$WORK/stderr"
RC=$?
set -e
expect_eq "$RC" 4 "exit status with --json"
jq -e '.deep == true and .deep_skipped == true' "$WORK/stdout" >/dev/null ||
        fail "--json does not say deep_skipped: $(head -c 300 "$WORK/stdout")"
ok

# the state partition (5) gets an incompat feature no kernel knows
off5=$(part_offset "$img" 5)
debugfs -w -R "ssv feature_incompat 0x10000002" "$img?offset=$off5" >/dev/null 2>&1 ||
        fail "debugfs ssv failed"
before=$(checksum "$img")

# GCC's ASan intercepts xdrmem_create, which libguestfs calls from libtirpc: loaded
# by dlopen after ASan started, the interceptor has nothing to call and crashes
[ -z "${BIMG_SANITIZERS:-}" ] ||
        skip "ASan's xdr interceptor crashes libguestfs loaded by dlopen; the normal build runs this"

# the one launch
set +e
$limit "$bin" verify --deep --json "$img" >"$WORK/deep.json" 2>"$WORK/stderr"
RC=$?
set -e
[ "$RC" -ne 124 ] || skip "the libguestfs appliance did not finish within 15 minutes here"
case $RC in
0 | 4 | 6) ;;
*) fail "verify --deep died: exit $RC: $(head -c 600 "$WORK/stderr")" ;;
esac
expect_eq "$(checksum "$img")" "$before" "checksum after verify --deep"
if jq -e '.deep_skipped' "$WORK/deep.json" >/dev/null 2>&1; then
        skip "libguestfs cannot run here: $(jq -r '.checks[] | select(.name == "deep") | .message' "$WORK/deep.json")"
fi
expect_eq "$RC" 6 "exit status (partition 5 cannot be mounted): $(cat "$WORK/stderr")"

deep() { jq -r --arg s "$1" ".checks[] | select(.name == \"deep\" and (.subject | startswith(\$s))) | .$2" "$WORK/deep.json"; }
expect_eq "$(jq '[.checks[] | select(.name == "deep")] | length' "$WORK/deep.json")" 5 "deep checks (one per FAT/ext partition)"
for p in 1 2 3 6; do
        expect_eq "$(deep "partition $p " status)" ok "deep status of partition $p"
done
expect_eq "$(deep "partition 5 " status)" fail "deep status of partition 5"
deep "partition 5 " message | grep -q "cannot mount" || fail "partition 5: $(deep "partition 5 " message)"
ok
# the filesystem check saw it too
jq -e '.checks[] | select(.name == "filesystem" and (.subject | startswith("partition 5 ")) and .status == "fail")' \
        "$WORK/deep.json" >/dev/null || fail "e2fsck did not fail partition 5"
ok

# the listings agree with mtools and debugfs
n_boot=$(m mdir "$img" 1 -b ::/ | wc -l)
deep "partition 1 " message | grep -q "; $n_boot entries at the top" ||
        fail "boot: mdir sees $n_boot entries, deep says: $(deep "partition 1 " message)"
ok
deep "partition 1 " message | grep -q "config.json" || fail "boot listing lacks config.json"
ok
off6=$(part_offset "$img" 6)
n_data=$(debugfs -R "ls -p /" "$img?offset=$off6" 2>/dev/null | awk -F/ 'NF > 5 && $6 != "." && $6 != ".." { n++ } END { print n }')
deep "partition 6 " message | grep -q "; $n_data entries at the top" ||
        fail "data: debugfs sees $n_data entries, deep says: $(deep "partition 6 " message)"
ok

done_testing
