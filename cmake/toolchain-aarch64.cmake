# Cross build for 64-bit ARM boards (Raspberry Pi 3/4/5 with a 64-bit OS):
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
# Needs crossbuild-essential-arm64, qemu-user-static and the -dev:arm64
# packages listed in scripts/cross.sh.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(EF_TRIPLET aarch64-linux-gnu)
set(EF_QEMU qemu-aarch64-static)
set(EF_DEB_ARCH arm64)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
