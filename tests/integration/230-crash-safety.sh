#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An in-place change killed at any instant leaves the image exactly as before
# or exactly as after, byte for byte, once the next balena-img has opened it.
#
# A full configure (hostname, 2 SSH keys, a udev rule, Wi-Fi, country, NTP,
# dev mode, splash) is killed with SIGKILL
#  1. at every step of its commit (BALENA_IMG_TEST_CRASH_STEP=N, N = 1, 2, ...
#     until a run gets through), and
#  2. at 200 instants spread evenly over a whole run, from outside (timeout -s
#     KILL), with every commit step slowed (BALENA_IMG_TEST_STEP_DELAY_MS) so
#     that many of them land inside the commit;
# an ext4 cp is killed at every step of its commit too. After each kill `info`
# opens the image (rolling back an unfinished commit) and the image's checksum
# must be the one from before or the one from after; no journal may be left.
# Then: a reader without write access, a damaged journal and a journal of
# another file are refused with a clear error and leave the image alone.
. "$top_srcdir/tests/lib.sh"
bin=$BALENA_IMG
unset BALENA_IMG
for tool in ssh-keygen sfdisk mkfs.ext4 timeout awk mtype debugfs; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing"
done
export SOURCE_DATE_EPOCH=1700000000     # mtools dates its writes by it: "after" is one image

# A small image, so 250 copies and checksums stay cheap: the flasher fixture's
# boot partition and a fresh ext4 root, behind a GPT table.
src=$(fixture gpt-flasher)
pristine=$WORK/pristine.img
truncate -s 56M "$pristine"
sfdisk -q --no-reread --no-tell-kernel "$pristine" >/dev/null <<'EOF'
label: gpt
start=2048, size=81920, name=flash-boot
start=83968, size=16384, name=flash-rootA
EOF
dd if="$src" of="$pristine" bs=1M skip=$(($(part_offset "$src" 1) / 1048576)) seek=1 count=40 \
        conv=notrunc,sparse status=none
mkdir -p "$WORK/root/etc" "$WORK/root/opt"
printf 'balena\n' >"$WORK/root/etc/hostname"
mkfs.ext4 -q -F -L flash-rootA -E root_owner=0:0 -d "$WORK/root" "$WORK/root.ext4" 8M \
        >/dev/null 2>&1 || fail "mkfs.ext4 failed"
dd if="$WORK/root.ext4" of="$pristine" bs=1M seek=41 conv=notrunc,sparse status=none
rm -f "$src" "$WORK/root.ext4"

ssh-keygen -q -t ed25519 -N '' -C a -f "$WORK/k1"
ssh-keygen -q -t rsa -b 2048 -N '' -C b -f "$WORK/k2"
printf 'KERNEL=="ttyUSB[0-9]*", MODE="0666"\n' >"$WORK/serial.rules"
mtype -i "$pristine@@1048576" ::/splash/balena-logo.png >"$WORK/logo.png"
head -c 300000 /dev/urandom >"$WORK/blob"       # an ext4 file of several extents

img=$WORK/test.img
journal=$img.balena-img-journal
configure() {
        "$bin" configure "$img" --hostname kiosk-7 --ssh-key "$WORK/k1.pub" \
                --ssh-key "$WORK/k2.pub" --udev-rule "$WORK/serial.rules" --wifi-ssid Depot \
                --wifi-key 'depot passphrase' --country GB --ntp-servers 'ntp.example.com' \
                --dev --splash "$WORK/logo.png"
}
cp_ext4() { "$bin" cp "$WORK/blob" "$img:flash-rootA/opt/blob"; }

fresh() { cp --sparse=always "$pristine" "$img"; }
before=$(checksum "$pristine")
after_of() {    # the checksum a command gives when it runs through
        fresh
        "$@" >/dev/null 2>"$WORK/ref.err" || fail "reference run failed: $(cat "$WORK/ref.err")"
        checksum "$img"
}
after=$(after_of configure)
[ "$after" != "$before" ] || fail "configure changed nothing"
expect_eq "$(after_of configure)" "$after" "a second reference configure"
after_cp=$(after_of cp_ext4)

kills=0 last_journal_step=0 as_before=0 as_after=0 journal_left=0
# after a kill: open with info, then the image must be one of the two
check_state() {
        want_after=$1
        # --wait: an mtools child of the killed process may still hold the lock
        # (reading the image) for a moment
        run "$bin" info --wait 10 "$img"
        [ "$RC" -eq 0 ] || fail "info after a kill ($2): exit $RC: $(cat "$WORK/stderr")"
        [ ! -e "$journal" ] || fail "a journal is left after info ($2)"
        sum=$(checksum "$img")
        if [ "$sum" = "$before" ]; then
                as_before=$((as_before + 1))
        elif [ "$sum" = "$want_after" ]; then
                as_after=$((as_after + 1))
        else
                cp --sparse=always "$img" "$WORK/bad.img"
                fail "after a kill ($2) the image is neither before nor after (kept: $WORK/bad.img)"
        fi
        ok
}

# 1. every step of the commit (SIGKILL raised by the process itself)
steps_of() {    # steps_of AFTER CMD: kill CMD at step 1, 2, ... until it completes
        want=$1 n=0
        shift
        while :; do
                n=$((n + 1))
                [ "$n" -lt 1000 ] || fail "$*: still killed at step 1000"
                fresh
                set +e
                BALENA_IMG_TEST_CRASH_STEP=$n "$@" >/dev/null 2>&1
                rc=$?
                set -e
                [ "$rc" -eq 0 ] && break
                [ "$rc" -eq 137 ] || fail "$* killed at step $n: exit $rc, want 137 (SIGKILL)"
                if [ -e "$journal" ]; then
                        journal_left=$((journal_left + 1))
                        last_journal_step=$n
                fi
                kills=$((kills + 1))
                check_state "$want" "step $n"
        done
        echo "$*: $((n - 1)) commit steps" >&2
        [ "$n" -gt 5 ] || fail "$*: only $((n - 1)) steps were counted"
}
steps_of "$after" configure
armed_step=$last_journal_step   # the last step of all: the image changed, the journal still there
steps_of "$after_cp" cp_ext4
debugfs -R 'stat /opt/blob' "$img?offset=$((83968 * 512))" 2>/dev/null | grep -q 'Size: 300000' ||
        fail "the ext4 cp that got through did not write /opt/blob"

# 2. kills from outside at 200 instants spread over a whole (slowed) run. How
# long a run takes depends on the load, so the instants go round the measured
# run once (kills past its end let the run finish) until 200 of them killed.
# The run measured is the quickest of three: one slowed by a busy moment would
# put most instants past the end of the others.
export BALENA_IMG_TEST_STEP_DELAY_MS=3
duration_ns=
for try in 1 2 3; do
        fresh
        t0=$(date +%s%N)
        configure >/dev/null
        d=$(($(date +%s%N) - t0))
        [ -n "$duration_ns" ] && [ "$duration_ns" -le "$d" ] || duration_ns=$d
done
timed_kills=0 tries=0 journal_before_timed=$journal_left
while [ "$timed_kills" -lt 200 ]; do
        tries=$((tries + 1))
        [ "$tries" -le 600 ] || fail "only $timed_kills of 600 timed kills landed before the end"
        fresh
        at=$(awk -v d="$duration_ns" -v i="$tries" \
                'BEGIN { printf "%.4f", d * ((i - 1) % 200 + 0.5) / 200 / 1e9 }')
        set +e
        timeout -s KILL "$at" "$bin" configure "$img" --hostname kiosk-7 \
                --ssh-key "$WORK/k1.pub" --ssh-key "$WORK/k2.pub" \
                --udev-rule "$WORK/serial.rules" --wifi-ssid Depot --wifi-key 'depot passphrase' \
                --country GB --ntp-servers 'ntp.example.com' --dev --splash "$WORK/logo.png" \
                >/dev/null 2>&1
        rc=$?
        set -e
        [ "$rc" -eq 0 ] || [ "$rc" -eq 137 ] || fail "configure killed at ${at}s: exit $rc"
        [ "$rc" -eq 0 ] || timed_kills=$((timed_kills + 1))
        [ ! -e "$journal" ] || journal_left=$((journal_left + 1))
        check_state "$after" "${at}s"
done
kills=$((kills + timed_kills))
unset BALENA_IMG_TEST_STEP_DELAY_MS
echo "kills: $kills ($timed_kills timed, in $tries runs), image as before: $as_before," \
        "as after: $as_after, a journal left to undo or drop: $journal_left" \
        "(a slowed run: $((duration_ns / 1000000)) ms)" >&2
timed_in_commit=$((journal_left - journal_before_timed))
[ "$timed_in_commit" -ge 10 ] || fail "only $timed_in_commit timed kills landed inside a commit"

# 3. an armed journal that cannot be undone is refused, never ignored
fresh
set +e
BALENA_IMG_TEST_CRASH_STEP=$armed_step configure >/dev/null 2>&1
set -e
[ -e "$journal" ] || fail "no journal left at step $armed_step"
killed=$(checksum "$img")
chmod 444 "$img"
if [ "$(id -u)" -ne 0 ]; then           # root writes anyway
        expect_exit 5 "$bin" info "$img"
        expect_one_line_error
        expect_stderr "unfinished change"
fi
chmod 644 "$img"
cp "$journal" "$WORK/journal.saved"
head -c 100 "$WORK/journal.saved" >"$journal"   # cut short: armed, damaged
expect_exit 6 "$bin" info "$img"
expect_one_line_error
expect_stderr "is damaged"
expect_eq "$(checksum "$img")" "$killed" "the image after a refused rollback"
cp "$WORK/journal.saved" "$journal"
cp --sparse=always "$img" "$WORK/other.img"     # the same bytes, another file
cp "$journal" "$WORK/other.img.balena-img-journal"
expect_exit 6 "$bin" info "$WORK/other.img"
expect_one_line_error
expect_stderr "belongs to another file"
expect_exit 0 "$bin" info "$img"                # the real one rolls back
expect_eq "$(checksum "$img")" "$before" "the image rolled back at last"
[ ! -e "$journal" ] || fail "the journal was not removed"
ok

done_testing
