#!/bin/sh
# Sets up and runs every test: installs the build dependencies, builds with
# warnings as errors, runs the whole ctest suite, then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the suite there too.
#   scripts/test.sh            both builds
#   EF_SANITIZE_ONLY=1 / EF_PLAIN_ONLY=1 to run one of them
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
JOBS=$(nproc 2>/dev/null || echo 2)
status=0
run_suite() {
    dir=$1; shift
    cmake -S . -B "$dir" -DEF_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$JOBS"
    (cd "$dir" && ctest --output-on-failure -j"$JOBS") || status=1
}
if [ -z "${EF_SANITIZE_ONLY:-}" ]; then
    echo "== build and test (warnings as errors) =="
    run_suite build
fi
if [ -z "${EF_PLAIN_ONLY:-}" ]; then
    echo "== build and test under ASan + UBSan =="
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_suite build-asan -DEF_SANITIZE=ON
fi
exit $status
