# Shared by the whole-process scenario scripts in bench/ (sourced, not run).

# Sends SIGTERM to process $1 and waits up to 20 s for it to be gone (or a zombie, waiting for a
# parent, a subreaper above this script, to reap it).
stop_pid() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 1 400); do
        kill -0 "$1" 2>/dev/null || return 0
        [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.05
    done
}

# Stops the tend whose runtime directory is $1/run (SIGTERM, then up to 20 s for it to end its
# jobs and exit) and forgets its pid file.
stop_tend() {
    local daemon
    daemon=$(cat "$1/run/tend.pid" 2>/dev/null || true)
    [ -z "$daemon" ] || stop_pid "$daemon"
    rm -f "$1/run/tend.pid"
}
