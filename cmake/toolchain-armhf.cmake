# Cross build for 32-bit ARM boards with hardware floating point (Raspberry
# Pi OS 32-bit, Debian armhf: ARMv7 and later):
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake
# Needs crossbuild-essential-armhf, qemu-user-static and the -dev:armhf
# packages listed in scripts/cross.sh.
set(CMAKE_SYSTEM_PROCESSOR arm)
set(EF_TRIPLET arm-linux-gnueabihf)
set(EF_QEMU qemu-arm-static)
set(EF_DEB_ARCH armhf)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
