#!/bin/sh
# Cross builds for ARM boards, tested under qemu-user, packaged as .deb:
#   scripts/cross.sh              arm64 and armhf
#   scripts/cross.sh arm64        one of them
#   EF_CROSS_NO_APT=1 ...         skip the package installation step
# For each architecture: install Debian's cross compiler and the -dev
# packages of that architecture (multiarch), configure with
# cmake/toolchain-*.cmake in build-<arch>, build, run the unit tests (every
# test whose program is a target binary; CMake runs it through qemu), run one
# end-to-end test (SIGHUP reload against a real mosquitto, the ARM binary
# under qemu), and build the .deb. Each step prints its duration.
#
# binfmt_misc is not needed: qemu is called explicitly. When the multiarch
# packages cannot be installed (a mirror whose index for that architecture
# lags behind the host's, so versions differ), the target's packages are
# unpacked into build-<arch>/sysroot with dpkg -x instead.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)
ARCHES=${*:-arm64 armhf}
LIBS="libmodbus-dev libpaho-mqtt-dev libserialport-dev libinih-dev libssl-dev libmicrohttpd-dev"
# What the sysroot needs: the -dev packages, their libraries, and the
# libraries those link against (for the linker's -rpath-link and for qemu).
SYSROOT_PKGS="$LIBS libmodbus5 libpaho-mqtt1.3 libserialport0 libinih1 libssl3
  liblzma5 libzstd1 liblz4-1 libcap2 libgcrypt20 libgpg-error0 libudev1"
status=0

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
step() { # step NAME COMMAND...: runs and times one step
    name=$1; shift
    t0=$(now)
    if "$@"; then r=ok; else r=FAILED; status=1; fi
    printf '== %-28s %6s s  %s\n' "$name" "$(since "$t0")" "$r"
    [ "$r" = ok ]
}

triplet() { case $1 in arm64) echo aarch64-linux-gnu ;; armhf) echo arm-linux-gnueabihf ;; esac; }
toolchain() { case $1 in arm64) echo aarch64 ;; armhf) echo armhf ;; esac; }
qemu() { case $1 in arm64) echo qemu-aarch64-static ;; armhf) echo qemu-arm-static ;; esac; }

install_multiarch() {
    a=$1
    dpkg --add-architecture "$a" || return 1
    # A failing index of another architecture must not stop this one.
    apt-get update -qq -o APT::Architectures::="$(dpkg --print-architecture)" \
        -o APT::Architectures::="$a" || true
    pkgs="crossbuild-essential-$a qemu-user-static"
    for p in $LIBS; do pkgs="$pkgs $p:$a"; done
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >"build-$a/cross-apt.log" 2>&1
}

make_sysroot() {
    a=$1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "crossbuild-essential-$a" \
        qemu-user-static >/dev/null || return 1
    rm -rf "build-$a/sysroot" "build-$a/debs" "build-$a/CMakeCache.txt"
    mkdir -p "build-$a/sysroot" "build-$a/debs"
    (cd "build-$a/debs" && for p in $SYSROOT_PKGS; do apt-get download -qq "$p:$a" || exit 1; done) ||
        return 1
    for d in "build-$a"/debs/*.deb; do dpkg -x "$d" "build-$a/sysroot" || return 1; done
}

install_step() {
    a=$1
    if [ -n "${EF_CROSS_NO_APT:-}" ]; then return 0; fi
    if install_multiarch "$a"; then
        rm -rf "build-$a/sysroot"
        return 0
    fi
    echo "   multiarch install failed (see build-$a/cross-apt.log); unpacking a sysroot instead"
    make_sysroot "$a"
}

configure_step() {
    a=$1
    if [ -d "build-$a/sysroot" ]; then
        export EF_CROSS_SYSROOT="$ROOT/build-$a/sysroot"
    else
        unset EF_CROSS_SYSROOT || true
    fi
    cmake -S . -B "build-$a" -DCMAKE_TOOLCHAIN_FILE="cmake/toolchain-$(toolchain "$a").cmake" \
        -DEF_WERROR=ON -DEF_CROSS_SYSROOT="${EF_CROSS_SYSROOT:-}" >"build-$a/cross-configure.log"
}

build_step() { cmake --build "build-$1" -j"$JOBS" >"build-$1/cross-build.log"; }

# The unit tests: those whose command CMake prefixed with qemu, less those
# that start another target program themselves (a simulator): without
# binfmt_misc, a program under qemu-user cannot exec another ARM binary.
unit_tests_regex() {
    (cd "build-$1" && ctest --show-only=json-v1) | python3 -c '
import json, os, sys
def is_elf(a):
    try:
        with open(a, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False
names = []
for t in json.load(sys.stdin)["tests"]:
    cmd = t.get("command") or []
    elves = [a for a in cmd[1:] if is_elf(a)]  # the test program, and any other
    if cmd and "qemu" in cmd[0] and len(elves) == 1:
        names.append(t["name"])
print("^(" + "|".join(names) + ")$")'
}

# The serial sensor tests start their simulator through the host's python,
# whose start-up under a qemu parent outlasts the tests' waits: skipped here
# (they run natively in scripts/test.sh). Override with EF_CROSS_SKIP.
SKIP=${EF_CROSS_SKIP-^serial_sensor_}

unit_step() {
    regex=$(unit_tests_regex "$1")
    (cd "build-$1" && ctest -j"$JOBS" --timeout 600 --output-on-failure -R "$regex" \
        ${SKIP:+-E "$SKIP"}) >"build-$1/cross-unit.log" 2>&1
    rc=$?
    grep -E "tests passed|tests failed" "build-$1/cross-unit.log" || true
    skipped_reasons "$1"
    return $rc
}

# A skipped test (exit 77) says why on its output, which ctest shows only
# verbosely: run each skipped one again to print its reason.
skipped_reasons() {
    sed -n 's/^[[:space:]]*[0-9]* - \(.*\) (Skipped)$/\1/p' "build-$1/cross-unit.log" |
        while read -r t; do
            echo "   skipped $t:"
            (cd "build-$1" && ctest -V -R "^$t\$" 2>&1) | sed -n 's/^[0-9]*: SKIP: /     /p'
        done
}

e2e_step() {
    a=$1
    t=$(triplet "$a")
    # Loader and libc from one glibc build (see cmake/cross-common.cmake).
    prefix=/usr/$t
    if [ ! -d "build-$a/sysroot" ] && [ -e "/lib/$t/libc.so.6" ]; then prefix=/; fi
    wrapper="$(qemu "$a") -L $prefix"
    if [ -d "build-$a/sysroot" ]; then
        wrapper="$wrapper -E LD_LIBRARY_PATH=$ROOT/build-$a/sysroot/usr/lib/$t:$ROOT/build-$a/sysroot/lib/$t"
    fi
    # The harness puts EF_WRAPPER in front of the binary and stretches its
    # waits by EF_TIME_SCALE (qemu-user runs the gateway several times slower).
    (cd "build-$a" && EF_WRAPPER="$wrapper" EF_TIME_SCALE=4 \
        ctest --timeout 300 --output-on-failure \
            -R '^service_reload_applies_refuses_and_keeps_the_queue$') \
        >"build-$a/cross-e2e.log" 2>&1
    rc=$?
    grep -E "tests passed|tests failed" "build-$a/cross-e2e.log" || true
    return $rc
}

package_step() {
    (cd "build-$1" && rm -f ./*.deb && cpack >cross-cpack.log 2>&1) || return 1
    deb=$(ls "build-$1"/edgeferry_*_"$1".deb)
    echo "   $deb"
    dpkg-deb -f "$deb" Package Version Architecture Depends | sed 's/^/   /'
}

for a in $ARCHES; do
    case $a in arm64 | armhf) ;; *) echo "unknown architecture $a"; exit 2 ;; esac
    echo "==== $a (logs in build-$a/cross-*.log)"
    mkdir -p "build-$a"
    T0=$(now)
    step "$a: install packages" install_step "$a" &&
        step "$a: configure" configure_step "$a" &&
        step "$a: build" build_step "$a" || continue
    step "$a: unit tests under qemu" unit_step "$a" || true
    step "$a: end-to-end under qemu" e2e_step "$a" || true
    step "$a: .deb" package_step "$a" || true
    printf '== %-28s %6s s\n' "$a: total" "$(since "$T0")"
done
exit $status
