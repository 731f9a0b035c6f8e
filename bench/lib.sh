# Shared by bench/daemon_scenarios.sh and bench/control_scenarios.sh (sourced, not run).

# Stops the tend whose runtime directory is $1/run (SIGTERM, then up to 20 s for it to end its
# jobs and exit) and forgets its pid file.
stop_tend() {
    local daemon
    daemon=$(cat "$1/run/tend.pid" 2>/dev/null || true)
    if [ -n "$daemon" ]; then
        kill "$daemon" 2>/dev/null || true
        for _ in $(seq 1 400); do
            kill -0 "$daemon" 2>/dev/null || break
            # Gone, and waiting for a parent (a subreaper above this script) to reap it.
            [ "$(awk '{print $3}' "/proc/$daemon/stat" 2>/dev/null)" = Z ] && break
            sleep 0.05
        done
    fi
    rm -f "$1/run/tend.pid"
}
