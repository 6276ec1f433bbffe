#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: unit and integration tests (make check); the release
# tarball rebuilt with ASan+UBSan and every test run again on it (make
# distcheck); the info and configure tests with the binary under valgrind; each
# fuzz harness for a few seconds. Each step after make check counts as one test.
# Ends with one line: "N passed, N failed, N skipped". Run ./setup.sh once first.
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

# step NAME LOG COMMAND...: one more test, passed when COMMAND succeeds
step() {
        step_name=$1 step_log=$2
        shift 2
        step_start=$(date +%s)
        if "$@" >"$step_log" 2>&1; then
                pass=$((pass + 1))
                echo "PASS: $step_name ($(( $(date +%s) - step_start )) s)"
        else
                fail=$((fail + 1))
                tail -n 40 "$step_log"
                echo "FAIL: $step_name (full log: build/$step_log)"
        fi
}

echo "==> make distcheck: the release tarball builds with -Werror and ASan+UBSan and passes every test"
step distcheck distcheck.log make -s -j"$(nproc)" distcheck \
        DISTCHECK_CONFIGURE_FLAGS="--enable-werror --enable-sanitizers"

echo "==> valgrind: the info and configure tests with balena-img under valgrind --leak-check=full"
step valgrind valgrind.log env BIMG_WRAPPER="valgrind -q --leak-check=full \
--show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=99 \
--suppressions=$(cd .. && pwd)/tests/valgrind.supp" \
        make -j"$(nproc)" check TEST_SUITE_LOG=valgrind-suite.log \
        TESTS="tests/integration/020-info-fixtures.sh tests/integration/110-configure.sh
               tests/integration/120-configure-idempotent.sh"

echo "==> fuzz: every libFuzzer harness for 10 s on its seeds (make fuzz-run)"
step fuzz fuzz.log sh -c 'make -s -j"$(nproc)" fuzz && make -s -j"$(nproc)" fuzz-run FUZZ_SECONDS=10'
grep '^fuzz_' fuzz.log || true
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
