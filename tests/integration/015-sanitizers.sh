#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The build is what configure said: with --enable-sanitizers (the distcheck of
# tests/run.sh) every test runs a binary with ASan and UBSan in it, and the
# test environment makes any finding abort; without, no sanitizer runtime is
# linked into the tool.
. "$top_srcdir/tests/lib.sh"
command -v readelf >/dev/null 2>&1 || skip "readelf (binutils) is missing"
readelf -d "$BALENA_IMG" >"$WORK/dynamic" || fail "readelf failed"
if [ -n "${BIMG_SANITIZERS:-}" ]; then
        for lib in libasan libubsan; do
                grep -q "NEEDED.*\[$lib" "$WORK/dynamic" ||
                        fail "configured with sanitizers, but $lib is not linked: $(grep NEEDED "$WORK/dynamic")"
                ok
        done
        # the ASan runtime is live: it reads ASAN_OPTIONS and prints its flags on help=1
        ASAN_OPTIONS=help=1 "$BALENA_IMG" --version >"$WORK/stdout" 2>"$WORK/stderr" ||
                fail "balena-img --version failed under ASAN_OPTIONS=help=1"
        grep -q "Available flags for AddressSanitizer" "$WORK/stderr" ||
                fail "the ASan runtime did not answer: $(head -c 300 "$WORK/stderr")"
        ok
        case ":$ASAN_OPTIONS:" in *:abort_on_error=1:*) ok ;; *) fail "ASAN_OPTIONS='$ASAN_OPTIONS' does not abort" ;; esac
        case ":$UBSAN_OPTIONS:" in *:halt_on_error=1:*) ok ;; *) fail "UBSAN_OPTIONS='$UBSAN_OPTIONS' does not halt" ;; esac
else
        for lib in libasan libubsan liblsan; do
                if grep -q "NEEDED.*\[$lib" "$WORK/dynamic"; then
                        fail "a build without --enable-sanitizers links $lib"
                fi
                ok
        done
fi
done_testing
