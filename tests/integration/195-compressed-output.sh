#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# -o OUT.img.gz / .img.xz / .img.zst / .zip: decompressed with the usual tools
# (not ours) it is the changed image; with --bmap, bmaptool copies it exactly.
. "$top_srcdir/tests/lib.sh"
for t in gzip xz zstd unzip; do
        command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
done
img=$(fixture gpt-flasher)      # small: compressing 1.7 GB of zeros proves nothing more
before=$(checksum "$img")
size=$(stat -c %s "$img")

unpack() {
        case $1 in
        *.gz) gzip -dc "$1" ;;
        *.xz) xz -dc "$1" ;;
        *.zst) zstd -qdc "$1" ;;
        *.zip) unzip -p "$1" "$2" ;;
        esac
}
for out in out.img.gz out.img.xz out.img.zst out.zip; do
        expect_exit 0 "$BALENA_IMG" configure "$img" -o "$WORK/$out" --bmap --hostname packed
        unpack "$WORK/$out" out.img >"$WORK/raw.img" || fail "$out does not decompress"
        ok
        expect_eq "$(stat -c %s "$WORK/raw.img")" "$size" "$out: image size"
        expect_eq "$(m mtype "$WORK/raw.img" 1 ::/config.json | jq -r .hostname)" "packed" \
                "$out: config.json inside"
        fsck_fat "$WORK/raw.img" 1
        if command -v bmaptool >/dev/null 2>&1; then
                run bmaptool copy --bmap "$WORK/$out.bmap" "$WORK/$out" "$WORK/copy.img"
                [ "$RC" -eq 0 ] || fail "$out: bmaptool copy: $(tail -2 "$WORK/stderr")"
                ok
                cmp -s "$WORK/copy.img" "$WORK/raw.img" || fail "$out: bmaptool copy differs"
                ok
                rm -f "$WORK/copy.img"
        fi
        rm -f "$WORK/raw.img"
done
expect_eq "$(unzip -Z1 "$WORK/out.zip")" "out.img" "the zip's one member"

# compressed inputs: read directly (unpacked to a private temporary file)
for packed in out.img.gz out.img.xz out.img.zst out.zip; do
        p=$WORK/$packed
        before_p=$(checksum "$p")
        expect_exit 0 "$BALENA_IMG" config get "$p" hostname
        expect_eq "$(cat "$WORK/stdout")" "packed" "$packed: config get"
        expect_exit 0 "$BALENA_IMG" info --json "$p"
        expect_eq "$(jq -r .image.size "$WORK/stdout")" "$size" "$packed: unpacked size"
        expect_exit 0 "$BALENA_IMG" cat "$p:boot/config.json"
        expect_eq "$(jq -r .hostname "$WORK/stdout")" "packed" "$packed: cat"
        # a change in place is refused, saying -o; with -o it is written raw
        expect_exit 2 "$BALENA_IMG" configure "$p" --hostname again
        expect_one_line_error
        expect_stderr "is compressed; give -o"
        expect_exit 0 "$BALENA_IMG" configure "$p" -o "$WORK/again.img" --hostname again
        expect_eq "$(m mtype "$WORK/again.img" 1 ::/config.json | jq -r .hostname)" "again" \
                "$packed: -o from a compressed input"
        expect_eq "$(stat -c %s "$WORK/again.img")" "$size" "$packed: -o output size"
        rm -f "$WORK/again.img"
        expect_eq "$(checksum "$p")" "$before_p" "$packed after reads and a refused change"
done
expect_eq "$(checksum "$img")" "$before" "input after compressed outputs"
# a failure leaves no compressed OUT and no temporary file
expect_exit 6 "$BALENA_IMG" configure "$img" -o "$WORK/bad.img.xz" --hostname 'bad host'
[ ! -e "$WORK/bad.img.xz" ] || fail "a failed run left a compressed output"
ok
[ -z "$(find "$WORK" -name '*.balena-img-*')" ] || fail "temporary files left behind"
ok
done_testing
