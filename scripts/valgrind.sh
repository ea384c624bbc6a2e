#!/bin/bash
# Runs the integration tests (those that start the real edgeferry through
# tests/harness/ef.py) with every edgeferry under valgrind memcheck, then
# reads the valgrind logs and prints one line per process plus a summary.
# Fails if any process had a memory error or a definite/indirect leak.
#
#   scripts/valgrind.sh [CTEST_REGEX]
#
# Build dir build-vg (gcc, no sanitizers: valgrind and ASan do not mix).
# EF_TIME_SCALE (default 8) stretches the harness's timeouts. Logs stay in
# $EF_VG_LOGS (default /tmp/ef-valgrind), one vg-<pid>.log per process.
# Needs: valgrind (Debian package valgrind).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EF_VG_BUILD:-$root/build-vg}
logs=${EF_VG_LOGS:-/tmp/ef-valgrind}
regex=${1:-'^alarms_|^modbus_e2e$|^store_forward$|^mqtt_|^serial_e2e$|^service_reload'}

cmake -S "$root" -B "$build" -DEF_WERROR=ON >/dev/null || exit 2
cmake --build "$build" -j2 >/dev/null || { echo "build failed"; exit 2; }
rm -rf "$logs" && mkdir -p "$logs"

export EF_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
  --show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no
  --suppressions=$root/scripts/valgrind.supp --log-file=$logs/vg-%p.log"
export EF_TIME_SCALE=${EF_TIME_SCALE:-8}
(cd "$build" && ctest -R "$regex" --output-on-failure --timeout 3000) >"$logs/ctest.log" 2>&1
ctest_rc=$?
grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|tests failed' "$logs/ctest.log"

# With --errors-for-leak-kinds, definite and indirect leaks count in the
# ERROR SUMMARY. A process killed with SIGKILL (crash tests) writes none.
bad=0 n=0 killed=0 clean=0
for f in "$logs"/vg-*.log; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    sum=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -1)
    if [ -z "$sum" ]; then
        killed=$((killed + 1))
    elif [ "$sum" -gt 0 ]; then
        bad=$((bad + 1))
        echo "== $f: $sum error(s)"
        grep -v '^==[0-9]*== *$' "$f" | sed -n '/HEAP SUMMARY/q;p' | head -80
        grep -B2 -A14 'definitely lost in loss\|indirectly lost in loss' "$f" | head -60
    else
        clean=$((clean + 1))
    fi
done
echo "valgrind: $n edgeferry process(es): $clean clean, $bad with errors or leaks," \
     "$killed without a summary (killed); ctest exit $ctest_rc"
echo "logs: $logs"
[ "$bad" -eq 0 ] && [ "$ctest_rc" -eq 0 ]
