#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: unit and integration tests (make check), then the
# release tarball rebuilt and tested on its own (make distcheck). Ends with
# one line: "N passed, N failed, N skipped". Run ./setup.sh once first.
set -u
cd "$(dirname "$0")/.."
if [ ! -f build/Makefile ]; then
        echo "tests/run.sh: no build/ yet; run ./setup.sh first" >&2
        exit 2
fi
cd build
make -s -j"$(nproc)" >/dev/null || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
make -j"$(nproc)" check
check_rc=$?
count() { sed -n "s/^# $1: *\([0-9]*\)$/\1/p" test-suite.log 2>/dev/null | head -n1; }
pass=$(count PASS); fail=$(count FAIL); error=$(count ERROR); skip=$(count SKIP)
xpass=$(count XPASS)
pass=${pass:-0}; skip=${skip:-0}
fail=$(( ${fail:-0} + ${error:-0} + ${xpass:-0} ))
[ "$check_rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1    # make check broke before counting

echo "==> make distcheck (the release tarball builds and passes its tests)"
if make -s distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.log 2>&1; then
        pass=$((pass + 1))
        echo "PASS: distcheck"
else
        fail=$((fail + 1))
        tail -n 40 distcheck.log
        echo "FAIL: distcheck (full log: build/distcheck.log)"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
