# Shared part of the cross toolchain files. Expects EF_TRIPLET (GNU triplet,
# also Debian's multiarch directory), EF_QEMU (qemu-user binary) and
# EF_DEB_ARCH (Debian architecture name) to be set by the including file.
#
# Libraries come from Debian multiarch packages (libmodbus-dev:arm64, ...),
# installed under /usr/lib/${EF_TRIPLET} next to the host's own. When the
# environment variable EF_CROSS_SYSROOT names a directory, the target's
# packages were unpacked there instead (dpkg -x), for hosts where multiarch
# installation is impossible (e.g. a mirror whose security index for that
# architecture lags, so package versions differ between architectures).
set(CMAKE_SYSTEM_NAME Linux)
# 64-bit file offsets and inode numbers on 32-bit targets: without them
# readdir() fails with EOVERFLOW under a 64-bit kernel (armhf user space on a
# Pi 4/5 kernel, or qemu-user here) and the queue cannot list its segments.
# A no-op on aarch64. (Native 32-bit builds need it too: see the report.)
set(ef_lfs "-D_FILE_OFFSET_BITS=64")
set(CMAKE_C_COMPILER ${EF_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${EF_TRIPLET})

if(DEFINED ENV{EF_CROSS_SYSROOT} AND NOT "$ENV{EF_CROSS_SYSROOT}" STREQUAL "")
  set(EF_CROSS_SYSROOT $ENV{EF_CROSS_SYSROOT})
endif()

if(EF_CROSS_SYSROOT)
  set(CMAKE_FIND_ROOT_PATH ${EF_CROSS_SYSROOT} /usr/${EF_TRIPLET})
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${EF_CROSS_SYSROOT})
  set(ENV{PKG_CONFIG_LIBDIR}
      "${EF_CROSS_SYSROOT}/usr/lib/${EF_TRIPLET}/pkgconfig:${EF_CROSS_SYSROOT}/usr/share/pkgconfig")
  # The unpacked libraries' own dependencies (libssl for paho, ...) are found
  # by the linker only through -rpath-link.
  set(CMAKE_EXE_LINKER_FLAGS_INIT
      "-Wl,-rpath-link,${EF_CROSS_SYSROOT}/usr/lib/${EF_TRIPLET}:${EF_CROSS_SYSROOT}/lib/${EF_TRIPLET}")
  set(CMAKE_C_FLAGS_INIT "${ef_lfs} -I${EF_CROSS_SYSROOT}/usr/include/${EF_TRIPLET}")
else()
  # Multiarch: headers in /usr/include, libraries in /usr/lib/${EF_TRIPLET};
  # the C library and loader come with the cross compiler in /usr/${EF_TRIPLET}.
  set(CMAKE_FIND_ROOT_PATH / /usr/${EF_TRIPLET})
  set(CMAKE_C_FLAGS_INIT "${ef_lfs}")
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${EF_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# binfmt_misc is not relied on: target programs (tests) run through qemu.
# The dynamic loader and libc.so.6 must come from the same glibc build: when
# the target's own libc6 is installed (multiarch, /lib/${EF_TRIPLET}), the
# host's ld.so.cache sends the target's programs to that libc, so qemu must
# use that package's loader too (-L /). Mixing the cross compiler's loader
# (libc6-${EF_DEB_ARCH}-cross, 2.36-8) with multiarch libc6 (2.36-9+deb12u*)
# hangs every pthread_create. Otherwise (a sysroot, or no multiarch libc6)
# the cross compiler's loader and libc in /usr/${EF_TRIPLET} are used.
if(NOT EF_CROSS_SYSROOT AND EXISTS /lib/${EF_TRIPLET}/libc.so.6)
  set(EF_QEMU_PREFIX /)
else()
  set(EF_QEMU_PREFIX /usr/${EF_TRIPLET})
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${EF_QEMU} -L ${EF_QEMU_PREFIX})
if(EF_CROSS_SYSROOT)
  list(APPEND CMAKE_CROSSCOMPILING_EMULATOR -E
       "LD_LIBRARY_PATH=${EF_CROSS_SYSROOT}/usr/lib/${EF_TRIPLET}:${EF_CROSS_SYSROOT}/lib/${EF_TRIPLET}")
endif()
