# SPDX-License-Identifier: Apache-2.0
# Sourced by every tests/integration/*.sh. Each test works on its own copies of
# the fixtures in $WORK (kept when it fails) and checks effects with tools that
# are not ours: mtools, debugfs, e2fsck, fsck.fat, sfdisk, jq.
set -eu
# The binary under test. The tool itself reads BALENA_IMG as its default image,
# so it must not reach it from here: after unset, the assignment below makes a
# plain shell variable that children do not inherit.
BIMG_BIN=${BIMG_BIN:-${BALENA_IMG:-}}
: "${BIMG_BIN:?run through make check}" "${FIXTURES:?run through make check}"
unset BALENA_IMG
BALENA_IMG=$BIMG_BIN
: "${TESTS_WORKDIR:=${TMPDIR:-/tmp}/balena-img-tests}"
export LC_ALL=C.UTF-8 TZ=UTC MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null
PATH=$PATH:/usr/sbin:/sbin

TEST_NAME=$(basename "$0" .sh)
WORK=$TESTS_WORKDIR/$TEST_NAME
rm -rf "$WORK"
mkdir -p "$WORK/tmp"
# the tool's own temporary files (and those a killed run leaves) stay in $WORK
export TMPDIR="$WORK/tmp"
CHECKS=0

# BIMG_WRAPPER="valgrind ...": every run of the binary goes through that command
# (tests/run.sh's valgrind step). A script stands in for the binary, so tests
# keep calling "$BALENA_IMG"; the tools it starts (mtools) run as they are.
if [ -n "${BIMG_WRAPPER:-}" ]; then
        BALENA_IMG=$TESTS_WORKDIR/.wrapped-$TEST_NAME
        printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$BIMG_WRAPPER" "$BIMG_BIN" >"$BALENA_IMG"
        chmod +x "$BALENA_IMG"
fi

fail() { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
skip() { echo "SKIP: $TEST_NAME: $*" >&2; exit 77; }
ok() { CHECKS=$((CHECKS + 1)); }
done_testing() { echo "PASS: $TEST_NAME ($CHECKS checks)"; rm -rf "$WORK"; exit 0; }

# fixture NAME: a private sparse copy of a generated image; prints its path
fixture() {
        [ -f "$FIXTURES/$1.img" ] || fail "fixture '$1' was not generated"
        cp --sparse=always "$FIXTURES/$1.img" "$WORK/$1.img"
        echo "$WORK/$1.img"
}
# fact NAME KEY: what fixtures/make-images.sh recorded about an image
fact() { (. "$FIXTURES/$1.facts" && eval "printf '%s' \"\${$2-}\""); }
fixture_names() { for f in "$FIXTURES"/*.facts; do basename "$f" .facts; done; }

# run CMD...: output lands in $WORK/stdout, $WORK/stderr, exit code in $RC
run() { set +e; "$@" >"$WORK/stdout" 2>"$WORK/stderr"; RC=$?; set -e; }
expect_exit() {
        want=$1; shift
        run "$@"
        [ "$RC" -eq "$want" ] || fail "$*: exit $RC, want $want: $(head -c 600 "$WORK/stderr")"
        ok
}
expect_stderr() {
        grep -q -- "$1" "$WORK/stderr" || fail "stderr lacks '$1': $(head -c 600 "$WORK/stderr")"
        ok
}
expect_stdout() {
        grep -q -- "$1" "$WORK/stdout" || fail "stdout lacks '$1': $(head -c 600 "$WORK/stdout")"
        ok
}
# an error is exactly one line, "balena-img: ...", and nothing on stdout
expect_one_line_error() {
        [ "$(wc -l <"$WORK/stderr")" -eq 1 ] || fail "error is not one line: $(cat "$WORK/stderr")"
        grep -q '^balena-img: ' "$WORK/stderr" || fail "error lacks the prefix: $(cat "$WORK/stderr")"
        [ ! -s "$WORK/stdout" ] || fail "an error also printed to stdout: $(head -c 300 "$WORK/stdout")"
        ok
}
expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: got '$1', want '$2'"; ok; }

# checksum FILE: CRC (cksum) of the whole file: enough to see a change, and 20x
# faster than sha256sum on a 1.7 GB sparse image
checksum() { cksum <"$1" | cut -d' ' -f1,2; }

# part_offset IMG N: byte offset of partition N, read with sfdisk (not our code)
part_offset() {
        sfdisk -J "$1" | jq -r --arg node "$1$2" \
                '.partitiontable as $t | $t.partitions[] | select(.node == $node)
                 | .start * ($t.sectorsize // 512)'
}
part_size() {
        sfdisk -J "$1" | jq -r --arg node "$1$2" \
                '.partitiontable as $t | $t.partitions[] | select(.node == $node)
                 | .size * ($t.sectorsize // 512)'
}
# cache_part_tables: from here on, part_offset and part_size run sfdisk -J once
# per image path instead of on every call (they add up to seconds in tests that
# call m/dbg hundreds of times). Only for tests that never put a different image
# under a path they have already looked at.
cache_part_tables() {
        part_offset() { part_cached "$1" "$2" offset; }
        part_size() { part_cached "$1" "$2" size; }
}
part_cached() {
        [ -f "$WORK/parts.cache" ] || : >"$WORK/parts.cache"
        for try_ in 1 2; do
                while IFS='	' read -r i_ n_ o_ s_; do
                        if [ "$i_" = "$1" ] && [ "$n_" = "$2" ]; then
                                if [ "$3" = offset ]; then echo "$o_"; else echo "$s_"; fi
                                return 0
                        fi
                done <"$WORK/parts.cache"
                [ "$try_" = 1 ] || return 0
                sfdisk -J "$1" | jq -r --arg img "$1" '.partitiontable as $t
                        | ($t.sectorsize // 512) as $ss | $t.partitions[]
                        | [$img, (.node | ltrimstr($img)), .start * $ss, .size * $ss] | @tsv' \
                        >>"$WORK/parts.cache"
        done
}
# mtools and debugfs on partition N of IMG
# (names with a leading _ so a caller's $img or $n is never overwritten)
m() { _t=$1 _i=$2 _n=$3; shift 3; "$_t" -i "$_i@@$(part_offset "$_i" "$_n")" "$@"; }
dbg() { debugfs -R "$3" "$1?offset=$(part_offset "$1" "$2")" 2>/dev/null; }

# fsck_fat IMG N / fsck_ext IMG N: the filesystem checkers stay clean
fsck_fat() {
        dd if="$1" of="$WORK/part.fat" bs=1M skip="$(($(part_offset "$1" "$2") / 1048576))" \
                count="$(($(part_size "$1" "$2") / 1048576))" conv=sparse status=none
        fsck.fat -n "$WORK/part.fat" >"$WORK/fsck.out" 2>&1 ||
                fail "fsck.fat -n found problems in partition $2: $(cat "$WORK/fsck.out")"
        rm -f "$WORK/part.fat"
        ok
}
fsck_ext() {
        e2fsck -fn "$1?offset=$(part_offset "$1" "$2")" >"$WORK/fsck.out" 2>&1 ||
                fail "e2fsck -fn found problems in partition $2: $(cat "$WORK/fsck.out")"
        ok
}

# ---- shared by the file-command tests ----------------------------------

# sha256 of stdin (openssl is several times faster than sha256sum on big images)
sha_in() {
        if command -v openssl >/dev/null 2>&1; then
                openssl dgst -sha256 -r | cut -c1-64
        else
                sha256sum | cut -c1-64
        fi
}
imgsum() { sha_in <"$1"; }
# snapshot IMG [LABEL...]: "LABEL START-END SHA256" for every stretch of the image
# between two partition boundaries (only those of the LABELs given); LABEL is pN, or
# gap for bytes outside every partition (the MBR extended partition labels nothing:
# its logical partitions and EBR gaps do)
snapshot() {
        snap_img=$1
        shift
        sfdisk -J "$snap_img" | jq -r --arg img "$snap_img" '.partitiontable as $t | ($t.sectorsize // 512) as $ss
                | $t.partitions[] | [(.node | ltrimstr($img)), .start * $ss, (.start + .size) * $ss, .type]
                | @tsv' >"$WORK/parts.tsv"
        { echo 0; stat -c %s "$snap_img"; cut -f2 "$WORK/parts.tsv"; cut -f3 "$WORK/parts.tsv"; } |
                sort -n -u >"$WORK/bounds"
        prev=
        while read -r b; do
                if [ -n "$prev" ]; then
                        label=$(awk -F'\t' -v a="$prev" -v b="$b" \
                                '$4 !~ /^(5|f|85)$/ && $2 <= a && b <= $3 { print "p" $1; exit }' "$WORK/parts.tsv")
                        label=${label:-gap}
                        case " $* " in
                        "  " | *" $label "*)
                                printf '%s %s-%s %s\n' "$label" "$prev" "$b" "$(dd if="$snap_img" bs=4M \
                                        iflag=skip_bytes,count_bytes skip="$prev" count=$((b - prev)) status=none | sha_in)"
                                ;;
                        esac
                fi
                prev=$b
        done <"$WORK/bounds"
}
# only_changed BEFORE AFTER N: partition N changed, and no byte outside it did
only_changed() {
        grep -v "^p$3 " "$1" >"$WORK/snap.a" || true
        grep -v "^p$3 " "$2" >"$WORK/snap.b" || true
        cmp -s "$WORK/snap.a" "$WORK/snap.b" ||
                fail "bytes outside partition $3 changed: $(diff "$WORK/snap.a" "$WORK/snap.b" | sed -n 's/^> \([^ ]* [^ ]*\).*/\1/p' | tr '\n' ' ')"
        ok
        ! cmp -s "$1" "$2" || fail "partition $3 did not change at all"
        ok
}
# quiet: the last run printed nothing
quiet() {
        [ ! -s "$WORK/stdout" ] && [ ! -s "$WORK/stderr" ] ||
                fail "expected no output: $(head -c 300 "$WORK/stdout") $(head -c 300 "$WORK/stderr")"
        ok
}

# need_mkpng: $MKPNG, the test PNG writer (tests/tools/mkpng.c): make check builds
# it; a test run by hand builds its own copy
need_mkpng() {
        [ -z "${MKPNG:-}" ] || return 0
        command -v cc >/dev/null 2>&1 && pkg-config --exists zlib 2>/dev/null ||
                skip "MKPNG is not set, and cc or zlib is missing to build tests/tools/mkpng.c"
        # shellcheck disable=SC2046 # pkg-config prints several words
        cc -O2 -o "$WORK/mkpng" "$top_srcdir/tests/tools/mkpng.c" $(pkg-config --cflags --libs zlib) ||
                fail "cannot build tests/tools/mkpng.c"
        MKPNG=$WORK/mkpng
}
