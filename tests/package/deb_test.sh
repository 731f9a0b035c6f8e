#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tend's Debian packages pass lintian without errors, install with dpkg where Debian puts things,
# run a session from the installed files, put the Upstart shortcuts in place as tendctl, and
# leave nothing behind when removed and purged. It installs into the real /usr and /etc, so it
# runs as root on a machine without tend installed (CI's); elsewhere it says why and skips (77).
#   tests/package/deb_test.sh [BUILD_DIR]   builds the packages with scripts/package (default: build)
#   tests/package/deb_test.sh DEB...        checks packages built already
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() {
    echo "deb_test: skipped: $*" >&2
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "it installs packages into /usr and /etc, so it must run as root"
command -v dpkg >/dev/null || skip "dpkg is not available"
for package in tend tend-upstart-shortcuts; do
    if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -qv 'not-installed'; then
        echo "deb_test: $package is installed on this machine; the test would replace and purge" \
            "it, so remove it first (dpkg -P $package)" >&2
        exit 1
    fi
done

if [ $# -eq 0 ] || [ -d "$1" ]; then
    mapfile -t debs < <(scripts/package "${1:-build}")
else
    debs=("$@")
fi
main="" shortcuts=""
for deb in "${debs[@]}"; do
    case ${deb##*/} in
        tend_*.deb) main=$deb ;;
        tend-upstart-shortcuts_*.deb) shortcuts=$deb ;;
    esac
done
if [ -z "$main" ] || [ -z "$shortcuts" ]; then
    echo "deb_test: no tend or no tend-upstart-shortcuts .deb in: ${debs[*]}" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/tend-deb-test-XXXXXX)
tend_pid=""
cleanup() {
    if [ -n "$tend_pid" ]; then
        kill "$tend_pid" 2>/dev/null || true
        wait "$tend_pid" 2>/dev/null || true
    fi
    dpkg -P tend-upstart-shortcuts tend >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# lintian: errors fail, warnings are shown. tend's own overrides (the static tendctl) count as
# meant.
for deb in "${debs[@]}"; do
    lintian --no-tag-display-limit "$deb" >"$tmp/lintian.log" 2>&1 || true
    errors=$(grep -c '^E:' "$tmp/lintian.log" || true)
    warnings=$(grep -c '^W:' "$tmp/lintian.log" || true)
    echo "lintian ${deb##*/}: $errors error(s), $warnings warning(s)"
    grep '^[EW]:' "$tmp/lintian.log" || true
    [ "$errors" -eq 0 ] || fail "lintian found errors in ${deb##*/}"
done

dpkg -i "$main" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; exit 1; }

# Where Debian puts things: binaries, plugins under /usr/lib, compressed man pages, the X session
# snippet and the autostart entry in /etc (as conffiles), the user unit naming /usr/bin/tend.
for file in /usr/bin/tend /usr/bin/tendctl /usr/share/man/man8/tend.8.gz \
    /usr/share/man/man1/tendctl.1.gz /usr/share/man/man5/tend-jobs.5.gz \
    /usr/share/bash-completion/completions/tendctl /usr/share/tend/jobs.d/dbus.conf \
    /usr/share/doc/tend/copyright /usr/share/doc/tend/changelog.Debian.gz; do
    [ -f "$file" ] || fail "$file is not installed"
done
for plugin in env-manager file-bridge journal-logger logrotate dbus-bridge; do
    dpkg -L tend | grep -qx "/usr/lib/\(.*/\)\?tend/plugins.d/$plugin.so" ||
        fail "the $plugin plugin is not in /usr/lib/.../tend/plugins.d"
done
for conffile in /etc/X11/Xsession.d/85tend /etc/xdg/autostart/tend.desktop; do
    [ -f "$conffile" ] || fail "$conffile is not installed"
    dpkg-query -W -f='${Conffiles}' tend | grep -q " $conffile " ||
        fail "$conffile is not a conffile"
done
unit=$(dpkg -L tend | grep '/systemd/user/tend.service$' || true)
grep -qx 'ExecStart=/usr/bin/tend --foreground' "${unit:-/nonexistent}" 2>/dev/null ||
    fail "no systemd user unit that runs /usr/bin/tend (found: '$unit')"
! dpkg -L tend | grep -q '^/usr/etc' || fail "tend installs into /usr/etc"
for name in start stop restart reload status initctl; do
    [ ! -e "/usr/bin/$name" ] || fail "/usr/bin/$name is there without tend-upstart-shortcuts"
done
file /usr/bin/tend | grep -q ', stripped' || fail "/usr/bin/tend is not stripped"

# A session of the installed tend, with one job, in a private tree: the standard plugins come
# from the package's plugins.d, found from /usr/bin/tend.
mkdir -p "$tmp/jobs" "$tmp/runtime" "$tmp/config" "$tmp/cache" "$tmp/home"
chmod 700 "$tmp/runtime"
printf 'start on startup\nexec sleep 600\n' >"$tmp/jobs/sleeper.conf"
socket=$tmp/runtime/control
(
    export XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache HOME=$tmp/home
    export XDG_RUNTIME_DIR=$tmp/runtime XDG_CONFIG_DIRS=$tmp/none XDG_DATA_DIRS=$tmp/none
    unset TEND_SESSION DBUS_SESSION_BUS_ADDRESS
    exec /usr/bin/tend --foreground --runtime-dir "$tmp/runtime" --jobs-dir "$tmp/jobs" \
        --log-dir "$tmp/log" --log-file "$tmp/tend.log"
) &
tend_pid=$!
status=""
for _ in $(seq 1 100); do
    status=$(/usr/bin/tendctl --socket "$socket" status sleeper 2>&1) || true
    [[ $status == *start/running* ]] && break
    sleep 0.1
done
[[ $status == *start/running* ]] ||
    fail "the installed tend did not run the job: '$status'; its log: $(cat "$tmp/tend.log")"
plugins=$(/usr/bin/tendctl --socket "$socket" plugins 2>&1) || true
for plugin in env-manager file-bridge logrotate; do
    grep -Eq "^$plugin .*running" <<<"$plugins" ||
        fail "the installed tend did not load $plugin; tendctl plugins said: $plugins"
done

# The shortcuts: tendctl under Upstart's names, here asking the running tend.
dpkg -i "$shortcuts" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; exit 1; }
for name in start stop restart reload status initctl; do
    [ "$(readlink "/usr/bin/$name")" = tendctl ] || fail "/usr/bin/$name is not a link to tendctl"
    [ -e "/usr/share/man/man1/$name.1.gz" ] || fail "/usr/share/man/man1/$name.1.gz is missing"
done
status=$(TEND_SESSION=$socket /usr/bin/status sleeper 2>&1) || true
[[ $status == *start/running* ]] || fail "/usr/bin/status sleeper said '$status'"

# What the purge must take away: every file of both packages, and tend's own folders.
mapfile -t installed < <(dpkg -L tend tend-upstart-shortcuts |
    while read -r path; do [ -d "$path" ] && [ ! -L "$path" ] || echo "$path"; done)
plugins_dir=$(dpkg -L tend | grep -m1 '/tend/plugins.d$' || true)
installed+=(/usr/share/tend /usr/share/doc/tend /usr/share/doc/tend-upstart-shortcuts
    ${plugins_dir:+"$plugins_dir"})

kill -TERM "$tend_pid"
set +e
wait "$tend_pid"
code=$?
set -e
tend_pid=""
[ "$code" -eq 0 ] || fail "the installed tend exited $code on SIGTERM, not 0"

# Removed, the conffiles stay until purged; purged, nothing is left.
dpkg -r tend-upstart-shortcuts tend >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; exit 1; }
if [ -e /usr/bin/tend ] || [ -e /usr/bin/start ]; then fail "dpkg -r left the binaries"; fi
[ -e /etc/X11/Xsession.d/85tend ] || fail "dpkg -r removed a conffile, which only a purge does"
dpkg -P tend-upstart-shortcuts tend >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; exit 1; }
for package in tend tend-upstart-shortcuts; do
    ! dpkg -L "$package" >/dev/null 2>&1 || fail "dpkg still knows $package after the purge"
done
for path in "${installed[@]}"; do
    if [ -e "$path" ] || [ -L "$path" ]; then fail "$path is left after the purge"; fi
done

if [ "$failures" -ne 0 ]; then
    echo "deb_test: $failures check(s) failed" >&2
    exit 1
fi
echo "deb_test: the packages pass lintian, install, run a session, and purge cleanly"
