#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cmake --install` puts tend, tendctl, the standard plugins, the man pages and the shell
# completions in place, and the `shortcuts` component the start/stop/restart/reload/status
# links, which work as tendctl; and scripts/demo runs from the installed prefix.
#   install_test.sh CMAKE BUILD_DIR SOURCE_DIR TEND_INSTALL_SHORTCUTS TEND_MAN_PAGES
set -euo pipefail
cmake=$1 build=$2 source=$3 shortcuts_option=$4 man_pages=$5

tmp=$(mktemp -d /tmp/tend-install-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# A plain install, as a packager or `sudo cmake --install build` does it.
prefix=$tmp/usr
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
    { cat "$tmp/install.log" >&2; exit 1; }

for tool in tend tendctl; do
    [ -x "$prefix/bin/$tool" ] || fail "bin/$tool is not installed as an executable"
done
version=$("$prefix/bin/tendctl" --version) || fail "installed tendctl --version failed"
[[ $version == "tendctl "* ]] || fail "installed tendctl --version printed '$version'"

if [ "$man_pages" != ON ]; then
    fail "scdoc was not found when the build was configured, so no man pages were built;" \
        "run scripts/install-deps and configure again"
else
    for page in tend.8 tendctl.1 tend-jobs.5; do
        name=${page%.*} section=${page##*.}
        file=$prefix/share/man/man$section/$page
        if [ ! -f "$file" ]; then
            fail "share/man/man$section/$page is not installed"
            continue
        fi
        grep -qx "\.TH \"$name\" \"$section\" .*" "$file" ||
            fail "$page has no '.TH \"$name\" \"$section\"' line"
        for heading in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
            grep -qx "\.SH $heading" "$file" || fail "$page has no $heading section"
        done
        grep -q "^$name - " "$file" || fail "$page's NAME section does not start with '$name - '"
    done
fi

# The standard plugins, where tend loads them by default, as tend trusts them (not writable by
# group or others).
for plugin in env-manager file-bridge journal-logger logrotate dbus-bridge; do
    found=$(find "$prefix" -path "*/tend/plugins.d/$plugin.so" -perm -u=r ! -perm /022 | head -n 1)
    [ -n "$found" ] || fail "the $plugin plugin is not installed into <libdir>/tend/plugins.d"
done

cmp -s "$source/scripts/completion/tendctl.bash" \
    "$prefix/share/bash-completion/completions/tendctl" ||
    fail "share/bash-completion/completions/tendctl is not scripts/completion/tendctl.bash"
cmp -s "$source/scripts/completion/_tendctl" "$prefix/share/zsh/site-functions/_tendctl" ||
    fail "share/zsh/site-functions/_tendctl is not scripts/completion/_tendctl"

# What starts tend with a session: the launcher an X session sources (also as an Xsession.d
# snippet), the systemd --user unit, which runs the installed tend, and the XDG autostart entry;
# and the shipped jobs, the session's bus as a default and every job as an example.
cmp -s "$source/scripts/session/xsession.sh" "$prefix/share/tend/xsession.sh" ||
    fail "share/tend/xsession.sh is not scripts/session/xsession.sh"
cmp -s "$source/scripts/session/xsession.sh" "$prefix/etc/X11/Xsession.d/85tend" ||
    fail "etc/X11/Xsession.d/85tend is not scripts/session/xsession.sh"
grep -qx "ExecStart=$prefix/bin/tend --foreground" "$prefix/lib/systemd/user/tend.service" ||
    fail "lib/systemd/user/tend.service does not run $prefix/bin/tend"
cmp -s "$source/scripts/session/tend.desktop" "$prefix/etc/xdg/autostart/tend.desktop" ||
    fail "etc/xdg/autostart/tend.desktop is not scripts/session/tend.desktop"
cmp -s "$source/jobs.d/dbus.conf" "$prefix/share/tend/jobs.d/dbus.conf" ||
    fail "share/tend/jobs.d/dbus.conf (a default job) is not jobs.d/dbus.conf"
for job in "$source"/jobs.d/*.conf; do
    cmp -s "$job" "$prefix/share/doc/tend/examples/jobs.d/${job##*/}" ||
        fail "share/doc/tend/examples/jobs.d/${job##*/} is not installed"
done
[ ! -e "$prefix/share/tend/jobs.d/imapfilter.conf" ] ||
    fail "the imapfilter example is installed as a default job"

# The README's demo runs from the prefix as it runs from the build tree: the installed tend with
# its own plugins, the shipped jobs as installed. Headless always; as the desktop of a private
# Xvfb too when the machine has one (the demo then picks it itself). The demo bounds its waits
# by what it waits for, and fails if anything it started is left running.
run_demo() { # NAME [--headless]: run the demo into $tmp/demo-NAME.log, and check what it showed
    local log=$tmp/demo-$1.log status=0 job demo_failures
    env -u DISPLAY "$source/scripts/demo" --prefix "$prefix" "${@:2}" >"$log" 2>&1 || status=$?
    demo_failures=$failures
    [ "$status" -eq 0 ] || fail "scripts/demo --prefix PREFIX ${*:2} exited $status"
    grep -qx 'tend exited with status 0' "$log" || fail "the demo's tend did not exit with 0"
    for job in "$source"/jobs.d/*.conf; do
        job=${job##*/}
        grep -Eq "^${job%.conf} (start|stop)/" "$log" ||
            fail "tendctl list in the demo did not show ${job%.conf}"
    done
    grep -q '^imapfilter start/running, process [0-9]' "$log" ||
        fail "the demo did not show imapfilter start/running"
    [ "$(grep -c '^imapfilter: -v connected; bus at unix:path=' "$log")" -ge 2 ] ||
        fail "imapfilter's log in the demo shows no respawn"
    grep -q '^new mail: .*/Mail/new/1$' "$log" || fail "the demo's mail-notify job did not fire"
    grep -q '^DBUS_SESSION_BUS_ADDRESS=unix:path=' "$log" ||
        fail "tendctl list-env in the demo showed no DBUS_SESSION_BUS_ADDRESS"
    if [ "$1" = desktop ]; then
        grep -q '^name of display: *:[0-9]' "$log" ||
            fail "the demo's desktop-start job did not reach the X server"
        grep -q '^desktop-end: the X server of :[0-9]* is gone$' "$log" ||
            fail "the demo's session did not see desktop-end"
    fi
    if [ "$failures" -ne "$demo_failures" ]; then
        echo "--- scripts/demo ($1) said:" >&2
        cat "$log" >&2
    fi
}
run_demo headless --headless
if command -v Xvfb >/dev/null && command -v xdpyinfo >/dev/null; then
    run_demo desktop
else
    echo "install: Xvfb or xdpyinfo is not installed; the demo ran headless only"
fi

# Into the prefix /usr, as the Debian package installs, the configuration files go to /etc, not
# /usr/etc; staged with DESTDIR.
debian=$tmp/debian
DESTDIR=$debian "$cmake" --install "$build" --prefix /usr >"$tmp/install-usr.log" ||
    { cat "$tmp/install-usr.log" >&2; exit 1; }
for file in X11/Xsession.d/85tend xdg/autostart/tend.desktop; do
    [ -f "$debian/etc/$file" ] || fail "the prefix /usr does not install /etc/$file"
done
[ ! -e "$debian/usr/etc" ] || fail "the prefix /usr installs into /usr/etc"
grep -qx "ExecStart=/usr/bin/tend --foreground" "$debian/usr/lib/systemd/user/tend.service" ||
    fail "with the prefix /usr, tend.service does not run /usr/bin/tend"

# The shortcuts: start, stop, ... as links to tendctl in bin and beside the bash completion.
shortcuts=(start stop restart reload status initctl)
check_links() { # ROOT: an install tree that must hold the shortcuts
    local name dir link
    for name in "${shortcuts[@]}"; do
        for dir in bin share/bash-completion/completions; do
            link=$1/$dir/$name
            if [ ! -L "$link" ]; then
                fail "$dir/$name is not a symlink in ${1#"$tmp"/}"
            elif [ "$(readlink "$link")" != tendctl ]; then
                fail "$dir/$name points to '$(readlink "$link")', not to tendctl"
            fi
        done
    done
}

# In the plain install only with TEND_INSTALL_SHORTCUTS.
if [ "$shortcuts_option" = ON ]; then
    check_links "$prefix"
else
    for name in "${shortcuts[@]}"; do
        if [ -e "$prefix/bin/$name" ] || [ -L "$prefix/bin/$name" ]; then
            fail "bin/$name is installed although TEND_INSTALL_SHORTCUTS is OFF"
        fi
    done
    # With the option ON they are part of the plain install: a throwaway configure, whose
    # top-level install rules (where the shortcuts are) run without the binaries.
    "$cmake" -S "$source" -B "$tmp/build-on" -DTEND_INSTALL_SHORTCUTS=ON -DTEND_BUILD_TESTS=OFF \
        -DTEND_BUILD_BENCH=OFF >"$tmp/configure.log" 2>&1 ||
        { cat "$tmp/configure.log" >&2; exit 1; }
    "$cmake" -DCMAKE_INSTALL_LOCAL_ONLY=ON -DCMAKE_INSTALL_PREFIX="$tmp/on" \
        -P "$tmp/build-on/cmake_install.cmake" >"$tmp/install-on.log" ||
        { cat "$tmp/install-on.log" >&2; exit 1; }
    check_links "$tmp/on"
fi

# The `shortcuts` component installs them on request, here staged with DESTDIR as a package
# build does.
DESTDIR=$tmp/stage "$cmake" --install "$build" --component shortcuts --prefix "$prefix" \
    >"$tmp/install-shortcuts.log" || { cat "$tmp/install-shortcuts.log" >&2; exit 1; }
staged=$tmp/stage$prefix
check_links "$staged"
cp "$prefix/bin/tendctl" "$staged/bin/tendctl"

# A shortcut runs tendctl as that command: its name prefixes the error tendctl gives when no tend
# answers.
set +e
message=$(TEND_SESSION=$tmp/no-such-socket "$staged/bin/status" clock 2>&1)
status=$?
set -e
[ "$status" -eq 1 ] || fail "bin/status with no tend exited $status, not 1"
[[ $message == "status: cannot reach tend at $tmp/no-such-socket"* ]] ||
    fail "bin/status did not run as the status command; it said: $message"

# The installed tend finds the plugins installed beside it, with no --plugins-dir: in the prefix
# it was installed into, and after the tree is moved elsewhere.
run_installed() { # PREFIX WHAT: start the tend in PREFIX/bin and list its plugins
    local root=$tmp/session-$2 pid plugins
    mkdir -p "$root/config" "$root/cache" "$root/runtime" "$root/home"
    chmod 700 "$root/runtime"
    plugins=$(
        export XDG_CONFIG_HOME=$root/config XDG_CACHE_HOME=$root/cache HOME=$root/home
        export XDG_RUNTIME_DIR=$root/runtime XDG_CONFIG_DIRS=$root/none XDG_DATA_DIRS=$root/none
        unset TEND_SESSION DISPLAY # a session without a display: $XDG_RUNTIME_DIR/tend
        "$1/bin/tend" --log-file "$root/tend.log" >/dev/null 2>&1 || echo "tend did not start"
        "$1/bin/tendctl" plugins 2>&1
        pid=$(cat "$root/runtime/tend/tend.pid" 2>/dev/null || true)
        if [ -n "$pid" ]; then
            kill "$pid"
            for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    )
    for plugin in env-manager file-bridge journal-logger logrotate dbus-bridge; do
        grep -Eq "^$plugin .*running" <<<"$plugins" ||
            fail "the tend installed $2 did not load $plugin from its own plugins.d;" \
                "tendctl plugins said: $plugins; its log: $(cat "$root/tend.log" 2>/dev/null)"
    done
}
run_installed "$prefix" "in a prefix"
mv "$tmp/usr" "$tmp/moved"
run_installed "$tmp/moved" "and moved"
mv "$tmp/moved" "$tmp/usr"

# `cmake --install --strip` installs binaries and plugins without debug information, that run.
stripped=$tmp/stripped
"$cmake" --install "$build" --prefix "$stripped" --strip >"$tmp/install-strip.log" ||
    { cat "$tmp/install-strip.log" >&2; exit 1; }
for file in "$stripped/bin/tend" "$stripped/bin/tendctl" \
    $(find "$stripped" -path '*/tend/plugins.d/*.so'); do
    if readelf -S "$file" | grep -q '\.debug_info'; then
        fail "${file#"$stripped"/} keeps its debug information after --strip"
    fi
done
"$stripped/bin/tendctl" --version >/dev/null || fail "the stripped tendctl does not run"
run_installed "$stripped" "stripped"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed; installed files:" >&2
    (cd "$tmp" && find . | sort) >&2
    exit 1
fi
echo "install: binaries, man pages, completions and shortcuts in place"
