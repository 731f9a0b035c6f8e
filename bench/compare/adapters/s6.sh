# shellcheck shell=bash disable=SC2034  # sourced by scenario.sh (set -euo pipefail); ADAPTER_NOTE is read there
# s6: s6-svscan starts one s6-supervise per service (and another per logger).
ADAPTER_NOTE="s6-svscan + one s6-supervise per service, ./run = sh exec, timeout-kill file = kill timeout; always respawns, at most once a second (no knob); log = s6-log (n100 s16777215); stop = s6-svscanctl -t"

setup() {
    local dir=$1 n=$2 cmd=$3 i name
    mkdir -p "$dir/s6"
    for ((i = 1; i <= n; i++)); do
        name=$(svc_name "$i")
        mkdir -p "$dir/s6/$name"
        write_run_script "$dir/s6/$name/run" "$cmd"
        # s6-supervise sends SIGKILL this many ms after the down signal
        echo $((BENCH_KILL_TIMEOUT * 1000)) >"$dir/s6/$name/timeout-kill"
        if [ "$BENCH_LOG" = 1 ]; then
            mkdir -p "$dir/s6/$name/log" "$dir/logs"
            write_run_script "$dir/s6/$name/log/run" s6-log n100 s16777215 "$dir/logs"
        fi
    done
}

start() {
    local dir=$1 n
    n=$(find "$dir/s6" -name run | wc -l)
    # -c: the most services it will supervise (its default is lower than our largest N)
    s6-svscan -c $((n + 100)) "$dir/s6" >"$dir/manager.out" 2>&1 &
    echo $! >"$dir/manager.pid"
}

wait_running() { wait_marker "$1" "$2"; }

stop() { s6-svscanctl -t "$1/s6"; }

manager_pids() {
    local pid
    pid=$(cat "$1/manager.pid")
    echo "$pid"
    children_named "$pid" s6-supervise
}

log_dir() { echo "$1/logs"; }
