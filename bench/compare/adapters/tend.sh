# shellcheck shell=bash disable=SC2034  # sourced by scenario.sh (set -euo pipefail); ADAPTER_NOTE is read there
# tend: one process supervises every job; its log router thread writes job output.
ADAPTER_NOTE="one job file per service (start on startup, console none|log, kill timeout); respawn default = 'respawn' (limit 10 in 5 s), fast = + 'respawn limit unlimited' + 'respawn delay 0'; stop = SIGTERM to tend; fan-out = 'start on go', then 'tendctl emit go'"
ADAPTER_STOP_LEAVES_NONE=1
ADAPTER_IDLE_SILENT=1

setup() {
    local dir=$1 n=$2 cmd=$3 i respawn=""
    case "$BENCH_RESPAWN" in
        default) respawn=$'respawn\n' ;;
        fast) respawn=$'respawn\nrespawn limit unlimited\nrespawn delay 0\n' ;;
    esac
    local console=none start_on=startup
    [ "$BENCH_ON_GO" = 1 ] && start_on=go
    [ "$BENCH_LOG" = 1 ] && console=log
    mkdir -p "$dir/jobs" "$dir/log"
    for ((i = 1; i <= n; i++)); do
        printf 'start on %s\nconsole %s\nkill timeout %s\n%sexec %s\n' \
            "$start_on" "$console" "$BENCH_KILL_TIMEOUT" "$respawn" "$cmd" \
            >"$dir/jobs/$(svc_name "$i").conf"
    done
}

# tend forks and returns once its control socket is up and the startup event is emitted.
start() {
    local dir=$1
    "$BENCH_TEND" --jobs-dir "$dir/jobs" --runtime-dir "$dir/run" --log-dir "$dir/log" \
        --log-file "$dir/tend.log" --log-level warn >"$dir/manager.out" 2>&1
    cp "$dir/run/tend.pid" "$dir/manager.pid"
}

wait_running() { wait_marker "$1" "$2"; }

# A client process, as any event from outside reaches tend; it returns once the jobs run.
go() { "$BENCH_TENDCTL" --socket "$1/run/control" emit go >/dev/null; }

stop() { kill -TERM "$(cat "$1/manager.pid")"; }

manager_pids() { cat "$1/manager.pid"; }

log_dir() { echo "$1/log"; }
