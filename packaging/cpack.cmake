# CPack configuration: the Debian package mailtls-exporter (Debian package names cannot hold
# "_"; the binary, unit and paths keep mailtls_exporter). Included at the end of the top-level
# CMakeLists.txt, after packaging/install.cmake. Build it with
#   cmake --build build --target mailtls_exporter && cpack --config build/CPackConfig.cmake
#
# cpack (and the package and install targets) install what is built: they do not build the
# whole tree first. The package holds only mailtls_exporter; in a tree where the tests are on
# and not all built, that first build was every test program (packaging_deb ran into its
# 900 s timeout on a small machine while it compiled them).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "mailtls-exporter")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "mailtls")
set(CPACK_PACKAGE_CONTACT "mailtls_exporter maintainers <mailtls-exporter@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Prometheus exporter for the transport security of mail domains")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # mailtls-exporter_<version>-1_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/mailtls/mailtls_exporter")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "mailtls_exporter probes mail domains and exports their DANE (TLSA and DNSSEC),\n\
MTA-STS, TLS-RPT and STARTTLS state as Prometheus metrics. DNSSEC is validated\n\
locally with libunbound against the root trust anchor from dns-root-data.")
# Library dependencies come from dpkg-shlibdeps (package dpkg-dev) on the binary; the data
# the exporter reads at run time is added by hand.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "dns-root-data, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_LIST_DIR}/debian/conffiles"
    "${CMAKE_CURRENT_LIST_DIR}/debian/postinst"
    "${CMAKE_CURRENT_LIST_DIR}/debian/prerm"
    "${CMAKE_CURRENT_LIST_DIR}/debian/postrm")
# 0755 for the maintainer scripts and 0644 for conffiles whatever the checkout's modes are.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
