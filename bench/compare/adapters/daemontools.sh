# shellcheck shell=bash disable=SC2034  # sourced by scenario.sh (set -euo pipefail); ADAPTER_NOTE is read there
# daemontools: svscan starts one supervise per service (and one per ./log, with multilog).
ADAPTER_NOTE="svscan + one supervise per service, ./run = sh exec; always respawns, at most once a second (no knob); log = multilog (s16777215 n100); stop = TERM svscan, then 'svc -dx': no kill timeout, supervise never sends KILL"

setup() {
    local dir=$1 n=$2 cmd=$3 i name
    mkdir -p "$dir/dt"
    for ((i = 1; i <= n; i++)); do
        name=$(svc_name "$i")
        mkdir -p "$dir/dt/$name"
        write_run_script "$dir/dt/$name/run" "$cmd"
        if [ "$BENCH_LOG" = 1 ]; then
            # multilog accepts at most s16777215: rotation is unavoidable at 200 MB
            mkdir -p "$dir/dt/$name/log" "$dir/logs"
            write_run_script "$dir/dt/$name/log/run" multilog s16777215 n100 "$dir/logs"
        fi
    done
}

start() {
    local dir=$1
    svscan "$dir/dt" >"$dir/manager.out" 2>&1 &
    echo $! >"$dir/manager.pid"
}

wait_running() { wait_marker "$1" "$2"; }

# svscan would restart an exiting supervise on its next scan, so it goes first.
stop() {
    local dir=$1
    kill -TERM "$(cat "$dir/manager.pid")"
    svc -dx "$dir"/dt/* || true
    if compgen -G "$dir/dt/*/log" >/dev/null; then svc -dx "$dir"/dt/*/log || true; fi
}

manager_pids() {
    local pid
    pid=$(cat "$1/manager.pid")
    echo "$pid"
    children_named "$pid" supervise
}

log_dir() { echo "$1/logs"; }
