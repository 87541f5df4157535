# Install rules for the files of mailtls_exporter that are not built: the example config,
# /etc/default/mailtls_exporter and the systemd unit. Included at the end of the top-level
# CMakeLists.txt; the binary itself is installed by exporter/CMakeLists.txt.
#
# The destinations are absolute because the Debian package (packaging/cpack.cmake) must put
# them there whatever CMAKE_INSTALL_PREFIX is; `cmake --install` into a prefix that is not the
# system can point them elsewhere, e.g. -DMAILTLS_SYSCONFDIR=$HOME/x/etc.
set(MAILTLS_SYSCONFDIR "/etc" CACHE PATH
    "Absolute directory for mailtls_exporter/config.yaml and default/mailtls_exporter")
set(MAILTLS_SYSTEMD_UNITDIR "/lib/systemd/system" CACHE PATH
    "Absolute directory for mailtls_exporter.service")

install(FILES ${PROJECT_SOURCE_DIR}/examples/config.yaml
        DESTINATION ${MAILTLS_SYSCONFDIR}/mailtls_exporter
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/default/mailtls_exporter
        DESTINATION ${MAILTLS_SYSCONFDIR}/default
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/systemd/mailtls_exporter.service
        DESTINATION ${MAILTLS_SYSTEMD_UNITDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
