#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Start-up cost (style guide 2.8): the binary links only the light core.
# libnm, libarchive, libcrypto, libpng and libext2fs are loaded on first use,
# never at start, so commands that do not need them (info, ls, cat; config get
# and the boot partition's ls and cat without libext2fs too) never load them.
. "$top_srcdir/tests/lib.sh"
command -v readelf >/dev/null 2>&1 || skip "readelf (binutils) is missing"
command -v mtype >/dev/null 2>&1 || skip "mtype (mtools) is missing"
readelf -d "$BALENA_IMG" >"$WORK/dynamic" || fail "readelf failed"
for lib in libnm libarchive libcrypto libssl libglib libgio libgobject libpng libext2fs \
           libcom_err; do
        if grep -q "NEEDED.*\[$lib" "$WORK/dynamic"; then
                fail "balena-img links $lib at start: $(grep NEEDED "$WORK/dynamic")"
        fi
        ok
done
for lib in libfdisk libblkid libjansson; do
        grep -q "NEEDED.*\[$lib" "$WORK/dynamic" || fail "expected $lib to be linked"
        ok
done

# what the dynamic loader actually opens (LD_DEBUG is glibc's own trace)
img=$(fixture mbr-v8)
loaded() { LD_DEBUG=files "$@" 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\).*/\1/p' | sort -u; }
for cmd in "info" "info --json" "ls $img:boot/" "cat $img:boot/config.json"; do
        case $cmd in info*) args="$cmd $img" ;; *) args=$cmd ;; esac
        # shellcheck disable=SC2086
        libs=$(loaded "$BALENA_IMG" $args)
        for lib in libnm libcrypto libarchive libglib libpng; do
                if echo "$libs" | grep -q "^$lib"; then
                        fail "'balena-img $cmd' loaded $lib"
                fi
                ok
        done
done
# the boot partition alone never needs libext2fs; the root filesystem loads it
for cmd in "ls $img:boot/" "cat $img:boot/config.json" "config get $img hostname"; do
        # shellcheck disable=SC2086
        libs=$(loaded "$BALENA_IMG" $cmd)
        if echo "$libs" | grep -q "^libext2fs"; then
                fail "'balena-img $cmd' loaded libext2fs"
        fi
        ok
done
libs=$(loaded "$BALENA_IMG" ls "$img:rootA/")
echo "$libs" | grep -q '^libext2fs\.so' || fail "ls of rootA did not load libext2fs: $libs"
ok
# and a Wi-Fi profile does load libnm, on demand; a compressed output libarchive
libs=$(loaded "$BALENA_IMG" configure "$img" --wifi-ssid net --wifi-key 12345678 --dry-run)
echo "$libs" | grep -q '^libnm\.so' || fail "configure --wifi-ssid did not load libnm: $libs"
ok
# a splash logo libpng
mtype -i "$img@@$(part_offset "$img" 1)" ::/splash/balena-logo.png >"$WORK/logo.png" ||
        fail "cannot read the fixture's logo"
for cmd in "splash $img $WORK/logo.png --dry-run" "configure $img --splash $WORK/logo.png --dry-run"; do
        # shellcheck disable=SC2086
        libs=$(loaded "$BALENA_IMG" $cmd)
        echo "$libs" | grep -q '^libpng16\.so' || fail "'balena-img ${cmd%% *}' did not load libpng: $libs"
        ok
done
libs=$(loaded "$BALENA_IMG" configure "$img" --hostname z -o "$WORK/z.img.zst")
echo "$libs" | grep -q '^libarchive\.so' || fail "-o .img.zst did not load libarchive: $libs"
ok
done_testing
