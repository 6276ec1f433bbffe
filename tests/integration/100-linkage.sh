#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Start-up cost (style guide 2.8): the binary links only the light core.
# libnm, libarchive and libcrypto are loaded on first use, never at start.
. "$top_srcdir/tests/lib.sh"
command -v readelf >/dev/null 2>&1 || skip "readelf (binutils) is missing"
readelf -d "$BALENA_IMG" >"$WORK/dynamic" || fail "readelf failed"
for lib in libnm libarchive libcrypto libssl libglib libgio libpng; do
        if grep -q "NEEDED.*\[$lib" "$WORK/dynamic"; then
                fail "balena-img links $lib at start: $(grep NEEDED "$WORK/dynamic")"
        fi
        ok
done
for lib in libfdisk libblkid libext2fs libjansson; do
        grep -q "NEEDED.*\[$lib" "$WORK/dynamic" || fail "expected $lib to be linked"
        ok
done
done_testing
