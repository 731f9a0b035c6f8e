# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by the completion tests: a real tend in a private XDG tree under $tmp, with jobs alpha
# (running), net/web (held in post-start, so its status has a tab continuation line), worker
# (two instances; emits worker-ready and the glob job-*) and beta (emits beta-done). On PATH:
# $tmp/bin with tendctl and the shortcuts start and status as links to it (stop is left out).
# $tmp/files holds web.conf for file completion. Stops tend and removes $tmp on exit.
#   start_completion_fixture TEND TENDCTL   (absolute paths)

start_completion_fixture() {
    local tend=$1 tendctl=$2
    tmp=$(mktemp -d /tmp/tend-completion-XXXXXX)
    trap stop_completion_fixture EXIT

    local jobs=$tmp/config/tend/jobs.d
    mkdir -p "$jobs/net" "$tmp/cache" "$tmp/runtime" "$tmp/bin" "$tmp/files" "$tmp/home"
    chmod 700 "$tmp/runtime"
    printf '%s\n' 'start on startup' 'exec sleep 600' >"$jobs/alpha.conf"
    printf '%s\n' 'exec sleep 600' 'post-start exec sleep 600' >"$jobs/net/web.conf"
    printf '%s\n' "instance \$N" 'emits worker-ready job-*' 'exec sleep 600' >"$jobs/worker.conf"
    printf '%s\n' 'emits beta-done' >"$jobs/beta.conf"
    touch "$tmp/files/web.conf"

    export HOME=$tmp/home # jobs start there
    export XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache XDG_RUNTIME_DIR=$tmp/runtime
    export XDG_CONFIG_DIRS=$tmp/none XDG_DATA_DIRS=$tmp/none
    unset DISPLAY TEND_SESSION # not a desktop: the socket is $XDG_RUNTIME_DIR/tend/control
    unset TEND_SESSION UPSTART_JOB

    "$tend" --log-file "$tmp/tend.log"
    "$tendctl" start -n net/web >/dev/null
    "$tendctl" start worker N=1 >/dev/null
    "$tendctl" start worker N=2 >/dev/null
    for _ in $(seq 1 100); do
        "$tendctl" list | grep -q $'^\t' && break
        sleep 0.05
    done
    if ! "$tendctl" list | grep -q $'^\t'; then
        echo "setup: net/web never showed its post-start process:" >&2
        "$tendctl" list >&2
        return 1
    fi

    ln -s "$tendctl" "$tmp/bin/tendctl"
    ln -s tendctl "$tmp/bin/start"
    ln -s tendctl "$tmp/bin/status"
    export PATH=$tmp/bin:$PATH
}

stop_completion_fixture() {
    local pid
    pid=$(cat "$tmp/runtime/tend/tend.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        # Gone, or a zombie: whoever inherited the daemonised tend may reap it late.
        local state
        for _ in $(seq 1 100); do
            state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || break
            [ "$state" = Z ] && break
            sleep 0.05
        done
    fi
    rm -rf "$tmp"
}
