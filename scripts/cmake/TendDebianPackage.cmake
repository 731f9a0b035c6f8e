# The Debian packages that `cpack -G DEB` builds (scripts/package), from any build of tend:
#   tend                    everything `cmake --install` puts in place but the shortcuts
#   tend-upstart-shortcuts  start, stop, restart, reload, status and initctl as tendctl, in a
#                           package of their own (as systemd-sysv is to systemd), so that
#                           installing tend shadows no command name
# What a Debian package holds besides the install tree (copyright, changelog, compressed man pages)
# is added by package/debian/finish_tree.cmake before the packages are built.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tend)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(TEND_DEB_MAINTAINER "tend maintainers <maintainers@users.noreply.r-seed-cddcb78d.example>"
    CACHE STRING "The Maintainer field of the Debian packages")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${TEND_DEB_MAINTAINER})
# The Debian revision: 0.1.0-1 is the upstream version, packaged once.
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(tend_deb_version ${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Installed as `cmake --install --prefix /usr` with DESTDIR: the install-time steps then see the
# real prefix, so the user unit runs /usr/bin/tend and the configuration files land in /etc.
# The build's own prefix does not matter: tend finds its plugins relative to itself.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

# One package per install component: the unnamed one is tend itself.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Unspecified shortcuts)
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_NAME tend)
set(CPACK_DEBIAN_SHORTCUTS_PACKAGE_NAME tend-upstart-shortcuts)

# Both come from one source, tend, whose changelog both carry. The description's lines stay
# within Debian's 80 columns.
set(CPACK_DEBIAN_PACKAGE_SOURCE tend)
# Empty, or CPack puts the project's description above each package's own first line.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_DEBIAN_UNSPECIFIED_DESCRIPTION "per-user session manager that runs Upstart jobs
tend manages a user's session: an X session starts it (an Xsession.d
snippet, a systemd user unit and an XDG autostart entry are included), and
it reads job files written in Upstart's stanza language. It starts the jobs
when their events happen, supervises and respawns them, logs their output,
and stops everything at logout. tendctl controls it as initctl did Upstart.
.
Plugins turn file changes, D-Bus signals and timers into events; the SDK
to build more is included. The start, stop, status, ... commands are in
tend-upstart-shortcuts.")
set(CPACK_DEBIAN_SHORTCUTS_DESCRIPTION "Upstart's command names for tend's tendctl
Installs start, stop, restart, reload, status and initctl as names of
tendctl, so that scripts and habits written for Upstart's initctl work with
tend unchanged.")

# Library dependencies as dpkg-shlibdeps finds them; the shipped dbus job runs the session
# bus's daemon and asks it with dbus-send.
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_RECOMMENDS "dbus-daemon, dbus-bin")
# The links name tendctl of exactly this build, and Upstart ships the same commands.
set(CPACK_DEBIAN_SHORTCUTS_PACKAGE_DEPENDS "tend (= ${tend_deb_version})")
set(CPACK_DEBIAN_SHORTCUTS_PACKAGE_CONFLICTS upstart)

# The files in /etc are the administrator's to edit: dpkg keeps their changes on upgrade.
set(tend_conffiles ${CMAKE_CURRENT_BINARY_DIR}/package/debian/conffiles)
file(WRITE ${tend_conffiles} "/etc/X11/Xsession.d/85tend\n/etc/xdg/autostart/tend.desktop\n")
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_CONTROL_EXTRA ${tend_conffiles})

# Binaries and plugins are stripped. No tend-dbgsym (CPACK_DEBIAN_DEBUGINFO_PACKAGE): CMake 3.25
# lists the debug files' build-tree paths in its md5sums and gives it no copyright or changelog,
# which lintian reports as errors.
set(CPACK_STRIP_FILES ON)

set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/package/debian/finish_tree.cmake)
# What finish_tree.cmake needs to know, passed through CPackConfig.cmake.
set(CPACK_TEND_DEBIAN_DIR ${CMAKE_CURRENT_LIST_DIR}/package/debian)
set(CPACK_TEND_DEB_VERSION ${tend_deb_version})

include(CPack)
