# Installation layout and the Debian package (CPack DEB).
#
# Included at the end of the top-level CMakeLists.txt. The binary's own
# install() rule lives next to its target (gateway/CMakeLists.txt); this file
# adds everything around it:
#   PREFIX/bin/edgeferry                         (gateway/CMakeLists.txt)
#   PREFIX/lib/systemd/system/edgeferry.service  ExecStart follows PREFIX
#   PREFIX/lib/sysusers.d/edgeferry.conf         the system user
#   /etc/edgeferry/edgeferry.ini                 example, never overwritten
#   PREFIX/share/doc/edgeferry/                  README, install and config docs
# systemd also searches /usr/local/lib/systemd/system and
# /usr/local/lib/sysusers.d, so the default prefix works as well as /usr.
# The configuration stays in /etc whatever the prefix: the binary's default
# path is /etc/edgeferry/edgeferry.ini.

set(EF_SYSCONF_DIR "/etc/edgeferry" CACHE PATH "Directory of edgeferry.ini")
set(EF_UNIT_SRC ${CMAKE_SOURCE_DIR}/systemd/edgeferry.service)
set(EF_EXAMPLE_INI ${CMAKE_SOURCE_DIR}/config/edgeferry.example.ini)

install(FILES ${CMAKE_SOURCE_DIR}/systemd/edgeferry.conf DESTINATION lib/sysusers.d)

# The unit is written at install time rather than configure time because the
# prefix is only final then (CPack installs with its own prefix, /usr).
install(CODE "set(EF_UNIT_SRC \"${EF_UNIT_SRC}\")
set(EF_EXAMPLE_INI \"${EF_EXAMPLE_INI}\")
set(EF_SYSCONF_DIR \"${EF_SYSCONF_DIR}\")")
install(CODE [[
  file(READ "${EF_UNIT_SRC}" unit)
  string(REPLACE "/usr/bin/edgeferry" "${CMAKE_INSTALL_PREFIX}/bin/edgeferry" unit "${unit}")
  string(REPLACE "file:/usr/share" "file:${CMAKE_INSTALL_PREFIX}/share" unit "${unit}")
  string(REPLACE "/etc/edgeferry" "${EF_SYSCONF_DIR}" unit "${unit}")
  set(dir "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  file(MAKE_DIRECTORY "${dir}")
  message(STATUS "Installing: ${dir}/edgeferry.service")
  file(WRITE "${dir}/edgeferry.service" "${unit}")

  # An edited configuration must survive a reinstall: only a missing file is
  # written. (The .deb ships it as a conffile, which dpkg protects itself.)
  set(ini "$ENV{DESTDIR}${EF_SYSCONF_DIR}/edgeferry.ini")
  if(EXISTS "${ini}")
    message(STATUS "Keeping existing: ${ini}")
  else()
    message(STATUS "Installing: ${ini}")
    file(MAKE_DIRECTORY "$ENV{DESTDIR}${EF_SYSCONF_DIR}")
    configure_file("${EF_EXAMPLE_INI}" "${ini}" COPYONLY)
  endif()
]])

set(ef_docs ${CMAKE_SOURCE_DIR}/README.md)
foreach(doc docs/install.md docs/configuration.md)
  if(EXISTS ${CMAKE_SOURCE_DIR}/${doc})
    list(APPEND ef_docs ${CMAKE_SOURCE_DIR}/${doc})
  endif()
endforeach()
install(FILES ${ef_docs} DESTINATION share/doc/edgeferry)
install(FILES ${EF_EXAMPLE_INI} DESTINATION share/doc/edgeferry/examples
        RENAME edgeferry.ini)

# ---- Debian package ------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edgeferry)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "edgeferry maintainers <edgeferry@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "IoT gateway: Modbus and serial sensors to MQTT, with store-and-forward")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "edgeferry polls Modbus RTU/TCP devices and line-oriented serial sensors,
 publishes their readings to an MQTT broker and keeps them in a disk queue
 while the broker is out of reach. It runs as a hardened systemd service.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The package installs into /usr and writes the absolute /etc path, so CPack
# must stage with DESTDIR rather than by rewriting the prefix.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
# Debian architecture names from the target (toolchain files set
# EF_DEB_ARCH); a native build asks dpkg.
if(DEFINED EF_DEB_ARCH)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${EF_DEB_ARCH})
endif()
# Runtime library dependencies are computed by dpkg-shlibdeps. For a cross
# build it must look up the target's libraries (installed as multiarch
# packages); cross.sh runs cpack with DEB_HOST_ARCH set for that.
# paho (libpaho-mqtt3a/3as) and libssl are not linked but loaded with dlopen
# (gateway/mqtt/paho_dl.c, the TLS probe in gateway/mqtt/mqtt_opts.c), which
# dpkg-shlibdeps cannot see: they are named here, and CPack adds what
# dpkg-shlibdeps finds to them.
# procps: the unit's ExecReload= runs /bin/kill, which minimal images lack
# (scripts/systemd-container.sh found `systemctl reload` failing, 203/EXEC).
set(EF_DEB_DLOPEN_DEPENDS "libpaho-mqtt1.3 (>= 1.3.0), libssl3 (>= 3.0.0), procps")
if(EF_CROSS_SYSROOT)
  # Libraries unpacked into a sysroot are unknown to dpkg: name them. These
  # are the dependencies dpkg-shlibdeps computes for the native build.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.34), libinih1 (>= 40), libmodbus5 (>= 3.0.2), \
libserialport0, ${EF_DEB_DLOPEN_DEPENDS}")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${EF_DEB_DLOPEN_DEPENDS}")
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
# libmicrohttpd is loaded only when [http] is configured (gateway/web/mhd_dl.c):
# recommended, not required, so a gateway without the web view needs no GnuTLS.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto-clients, libmicrohttpd12")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/systemd/debian/conffiles
    ${CMAKE_SOURCE_DIR}/systemd/debian/postinst
    ${CMAKE_SOURCE_DIR}/systemd/debian/prerm
    ${CMAKE_SOURCE_DIR}/systemd/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
