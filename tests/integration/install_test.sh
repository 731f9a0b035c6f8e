#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cmake --install` puts tend, tendctl, the standard plugins, the man pages and the shell
# completions in place, and the `shortcuts` component the start/stop/restart/reload/status
# links, which work as tendctl.
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
for plugin in env-manager file-bridge logrotate; do
    found=$(find "$prefix" -path "*/tend/plugins.d/$plugin.so" -perm -u=r ! -perm /022 | head -n 1)
    [ -n "$found" ] || fail "the $plugin plugin is not installed into <libdir>/tend/plugins.d"
done

cmp -s "$source/scripts/completion/tendctl.bash" \
    "$prefix/share/bash-completion/completions/tendctl" ||
    fail "share/bash-completion/completions/tendctl is not scripts/completion/tendctl.bash"
cmp -s "$source/scripts/completion/_tendctl" "$prefix/share/zsh/site-functions/_tendctl" ||
    fail "share/zsh/site-functions/_tendctl is not scripts/completion/_tendctl"

# The shortcuts: start, stop, ... as links to tendctl in bin and beside the bash completion.
shortcuts=(start stop restart reload status)
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

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed; installed files:" >&2
    (cd "$tmp" && find . | sort) >&2
    exit 1
fi
echo "install: binaries, man pages, completions and shortcuts in place"
