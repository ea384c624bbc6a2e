#!/bin/bash
# Builds the libFuzzer targets with clang (build dir build-fuzz) and runs
# each for a set time, two at a time, then prints per target the runs,
# coverage and crashes.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60, all)
#
# Targets: config modbus qrec queue_recover command sparkplug (tests/fuzz) and serial_framing
# serial_nmea serial_kv serial_csv (tests/serial). New inputs libFuzzer finds
# go to build-fuzz/fuzz-work/<target>/corpus (kept between runs); a crash,
# leak or timeout is saved there as crash-*/leak-*/timeout-*: copy it into
# tests/fuzz/corpus/<target>/crash-<what> once it is fixed.
# Needs: clang (Debian package clang) for -fsanitize=fuzzer.
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EF_FUZZ_BUILD:-$root/build-fuzz}
jobs=${EF_FUZZ_JOBS:-2}
targets=${*:-config modbus qrec queue_recover command sparkplug serial_framing serial_nmea serial_kv serial_csv}

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DEF_WERROR=ON >/dev/null
bins=""
for t in $targets; do bins="$bins fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$build" -j2 --target $bins >/dev/null

work=$build/fuzz-work
run_one() { # target
    t=$1
    case $t in
    serial_*) exe=$build/tests/serial/fuzz_$t seeds=$root/tests/serial/corpus extra=-max_len=600 ;;
    *) exe=$build/tests/fuzz/fuzz_$t seeds=$root/tests/fuzz/corpus/$t extra= ;;
    esac
    mkdir -p "$work/$t/corpus" "$work/$t/old"
    # Artifacts of earlier runs move aside, so the count below is this run's.
    find "$work/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
        -o -name 'timeout-*' -o -name 'oom-*' \) -exec mv {} "$work/$t/old/" \;
    # Exit status is the crash count's business, reported below.
    "$exe" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/$t/" $extra "$work/$t/corpus" "$seeds" \
        >"$work/$t/log" 2>&1 || true
}

mkdir -p "$work"
running=0
for t in $targets; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

printf '%-16s %6s %12s %8s %8s %8s %s\n' target secs runs exec/s cov ft crashes
fail=0
for t in $targets; do
    log=$work/$t/log
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    crashes=$(find "$work/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
              -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    if grep -q 'ERROR: \(libFuzzer\|AddressSanitizer\|LeakSanitizer\)\|runtime error:' "$log"; then
        [ "$crashes" -gt 0 ] || crashes="yes(see log)"
    fi
    printf '%-16s %6s %12s %8s %8s %8s %s\n' "$t" "$secs" "${runs:-?}" "${eps:-?}" \
        "${cov:-?}" "${ft:-?}" "$crashes"
    [ "$crashes" = 0 ] || { fail=1; echo "  see $log"; }
done
exit $fail
