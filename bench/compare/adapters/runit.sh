# shellcheck shell=bash disable=SC2034  # sourced by scenario.sh (set -euo pipefail); ADAPTER_NOTE is read there
# runit: runsvdir starts one runsv per service directory; runsv also runs ./log (svlogd).
ADAPTER_NOTE="runsvdir + one runsv per service, ./run = sh exec; always respawns, at most once a second (no knob); log = svlogd (s16777215 n100); stop = TERM runsvdir, then 'sv -w KILL_TIMEOUT force-shutdown' (sv sends KILL on timeout)"

setup() {
    local dir=$1 n=$2 cmd=$3 i name
    mkdir -p "$dir/sv"
    for ((i = 1; i <= n; i++)); do
        name=$(svc_name "$i")
        mkdir -p "$dir/sv/$name"
        write_run_script "$dir/sv/$name/run" "$cmd"
        if [ "$BENCH_LOG" = 1 ]; then
            # svlogd rotates at 1 MB and keeps 10 files by default: that would drop lines of a
            # 200 MB run. Same rotation for every logger: 16 MiB files, 100 of them.
            mkdir -p "$dir/sv/$name/log" "$dir/logs"
            printf 's16777215\nn100\n' >"$dir/logs/config"
            write_run_script "$dir/sv/$name/log/run" svlogd "$dir/logs"
        fi
    done
    # runsvdir sleeps a second before scanning a directory modified in the current second
    # (so as not to miss a change later in it). A booting system's service directory is older;
    # a tree made a moment ago is not, and that second would be all cold start measured.
    touch -d '1 minute ago' "$dir/sv"
}

start() {
    local dir=$1
    runsvdir "$dir/sv" >"$dir/manager.out" 2>&1 &
    echo $! >"$dir/manager.pid"
}

wait_running() { wait_marker "$1" "$2"; }

# runsvdir restarts a runsv that exits, so it goes first; TERM leaves the runsvs running.
# runsv itself never escalates; force-shutdown makes sv send KILL after -w seconds.
stop() {
    local dir=$1
    kill -TERM "$(cat "$dir/manager.pid")"
    sv -w "$BENCH_KILL_TIMEOUT" force-shutdown "$dir"/sv/* >/dev/null || true
}

manager_pids() {
    local pid
    pid=$(cat "$1/manager.pid")
    echo "$pid"
    children_named "$pid" runsv
}

log_dir() { echo "$1/logs"; }
