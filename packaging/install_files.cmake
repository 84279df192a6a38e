# Installs the example config, the systemd unit and the sysusers.d entry.
# Run at install time (install(SCRIPT)), not at configure time, so that the
# paths written into the unit follow the prefix of this install:
# `cmake --install build --prefix /usr` and `cpack -G DEB` (which installs
# with the prefix /usr) get /usr/bin and /etc, the default /usr/local gets
# /usr/local/bin and /usr/local/etc.
# Set by the install(CODE) before it: VOLLEY_SOURCE_DIR, VOLLEY_BINARY_DIR,
# and the GNUInstallDirs relative dirs (CMAKE_INSTALL_BINDIR, ...).
include(GNUInstallDirs)
GNUInstallDirs_get_absolute_install_dir(VOLLEY_BINDIR CMAKE_INSTALL_BINDIR BINDIR)
GNUInstallDirs_get_absolute_install_dir(VOLLEY_SYSCONFDIR CMAKE_INSTALL_SYSCONFDIR SYSCONFDIR)
GNUInstallDirs_get_absolute_install_dir(VOLLEY_DOCDIR CMAKE_INSTALL_DOCDIR DOCDIR)
set(VOLLEY_CONFIG "${VOLLEY_SYSCONFDIR}/volley/volley.json")
# systemd looks for units and sysusers.d entries under /usr/lib and
# /usr/local/lib whatever the distribution's libdir is.
set(VOLLEY_SYSTEMD_DIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
set(VOLLEY_SYSUSERS_DIR "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d")

# One unit per install destination: two installs at once (the tests) do not
# write the same file.
string(MD5 install_key "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
set(unit "${VOLLEY_BINARY_DIR}/packaging/${install_key}/volleyd.service")
configure_file("${VOLLEY_SOURCE_DIR}/packaging/volleyd.service.in" "${unit}" @ONLY)
file(INSTALL "${unit}" DESTINATION "${VOLLEY_SYSTEMD_DIR}")
get_filename_component(unit_dir "${unit}" DIRECTORY)
file(REMOVE_RECURSE "${unit_dir}")
# The config holds subscribers' secrets: readable by root and the volley
# group only once the package's postinst has set its group.
file(INSTALL "${VOLLEY_SOURCE_DIR}/packaging/volley.json" DESTINATION "${VOLLEY_SYSCONFDIR}/volley"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
file(INSTALL "${VOLLEY_SOURCE_DIR}/packaging/volley.sysusers" DESTINATION "${VOLLEY_SYSUSERS_DIR}"
     RENAME volley.conf)
