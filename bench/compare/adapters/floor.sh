# shellcheck shell=bash disable=SC2034  # sourced by scenario.sh (set -euo pipefail); ADAPTER_NOTE is read there
# The floor: bcmp-floor (floor.c) posix_spawns the N services itself, each set up as tend sets
# up a job. One process, no configuration, no logger: what no manager can beat.
ADAPTER_NOTE="bcmp-floor: one posix_spawn per service (setsid, signals reset, descriptors closed; exec confirmed by its return value); respawns at once; SIGTERM, then SIGKILL after the kill timeout; log = the file itself as the service's stdout; fan-out = spawns on SIGUSR1"
ADAPTER_STOP_LEAVES_NONE=1
ADAPTER_IDLE_SILENT=1

setup() {
    local dir=$1 n=$2 cmd=$3
    local -a argv=(--kill-timeout "$BENCH_KILL_TIMEOUT")
    [ -n "$BENCH_RESPAWN" ] && argv+=(--respawn)
    [ "$BENCH_ON_GO" = 1 ] && argv+=(--ready "$dir/ready")
    if [ "$BENCH_LOG" = 1 ]; then
        mkdir -p "$dir/logs"
        argv+=(--stdout "$dir/logs/$(svc_name 1).log")
    fi
    # shellcheck disable=SC2206  # SERVICE_CMD is plain words by contract
    argv+=("$n" $cmd)
    printf '%s\n' "${argv[@]}" >"$dir/floor.argv"
}

start() {
    local dir=$1
    local -a argv
    mapfile -t argv <"$dir/floor.argv"
    "$BENCH_BIN/bcmp-floor" "${argv[@]}" >"$dir/manager.out" 2>&1 &
    echo $! >"$dir/manager.pid"
    # as tend's start returns once tend can take the event
    if [ "$BENCH_ON_GO" = 1 ]; then
        local i tries=$((${BENCH_START_TIMEOUT_MS:-60000} / 10))
        for ((i = 0; i < tries; i++)); do
            [ -e "$dir/ready" ] && return 0
            sleep 0.01
        done
        echo "floor: not ready after $((tries / 100)) s" >&2
        return 1
    fi
}

# A signal: the cheapest trigger there is, so tend's client process counts against tend.
# (read, not $(cat): the clock is running, and a fork would count against the floor)
go() {
    local pid
    read -r pid <"$1/manager.pid"
    kill -USR1 "$pid"
}

wait_running() { wait_marker "$1" "$2"; }

stop() { kill -TERM "$(cat "$1/manager.pid")"; }

manager_pids() { cat "$1/manager.pid"; }

log_dir() { echo "$1/logs"; }
