#!/usr/bin/env bash
# One run of one scenario for one manager, in a fresh temporary tree, appending its numbers to
# $BENCH_RESULTS as "scenario<TAB>manager<TAB>n<TAB>metric<TAB>value<TAB>rep" lines.
#   bench/compare/scenario.sh SCENARIO MANAGER N
# SCENARIO: lifecycle (cold start, memory, idle, stop), respawn-default, respawn-fast, log,
# fanout, warmup (nothing measured). Started by scripts/bench-compare, which exports the BENCH_*
# settings used below.
# It is a process of its own, not a subshell, so that set -e holds inside it while the driver
# carries on with the next run when this one fails.
set -euo pipefail
scenario=$1 manager=$2 n=$3
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/compare/lib.sh
source "$here/lib.sh"
# shellcheck disable=SC1090
source "$here/adapters/$manager.sh"

tool=$BENCH_BIN/bcmp-tool
dir=$BENCH_ROOT/$BENCH_TAG
mkdir -p "$dir"
export BENCH_RESPAWN="" BENCH_LOG=0 BENCH_ON_GO=0 BENCH_KILL_TIMEOUT=${BENCH_KILL_TIMEOUT:-2}

# Timestamps are ${EPOCHREALTIME/./}: microseconds, and no fork to take them.
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$manager" "$n" "$1" "$2" "$BENCH_REP" \
        >>"$BENCH_RESULTS"
}

# Everything this run started carries BENCH_SESSION in its command line (runs are sequential):
# SIGKILL it all, then prove with pgrep that nothing is left.
cleanup() {
    local pids i
    disown -a  # the managers started with & here: no "Killed" notices for what we kill
    for ((i = 0; i < 100; i++)); do
        pids=$(pgrep -f -- "$BENCH_SESSION" | grep -vx -e "$$" -e "$BASHPID" || true)
        [ -z "$pids" ] && break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.05
    done
    if pgrep -f -- "$BENCH_SESSION" >/dev/null; then
        echo "bench-compare: processes survived the cleanup:" >&2
        pgrep -af -- "$BENCH_SESSION" >&2
        exit 1
    fi
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
}
trap cleanup EXIT

service=$BENCH_BIN/bcmp-service

# (1) cold start, (2) memory, (3) idle, (5) stop: one tree of N SIGTERM-ignoring services
# (ignoring SIGTERM changes nothing until the stop, which is scenario 5).
lifecycle() {
    setup "$dir" "$n" "$service --marker $dir/started --ignore-term"
    local t0 t1
    t0=${EPOCHREALTIME/./}
    start "$dir"
    wait_running "$dir" "$n"
    t1=${EPOCHREALTIME/./}
    record cold_start_ms "$(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))"

    sleep "$BENCH_SETTLE"
    local -a pids
    mapfile -t pids < <(manager_pids "$dir")
    local rss pss arss apss ticks0 vcsw0 procs ticks1 vcsw1
    read -r rss pss arss apss ticks0 vcsw0 procs < <("$tool" procstat "${pids[@]}")
    record mgr_rss_kb "$rss"
    record mgr_pss_kb "$pss"
    record all_rss_kb "$arss"
    record all_pss_kb "$apss"
    record processes "$procs"
    sleep "$BENCH_IDLE"
    read -r _ _ _ _ ticks1 vcsw1 _ < <("$tool" procstat "${pids[@]}")
    record idle_cpu_ms $(((ticks1 - ticks0) * 1000 / BENCH_CLK_TCK))
    record idle_vcsw $((vcsw1 - vcsw0))

    local stop_pid ms alive
    t0=${EPOCHREALTIME/./}
    stop "$dir" >"$dir/stop.out" 2>&1 &
    stop_pid=$!
    read -r ms alive _ < <("$tool" wait-gone "$dir/started" "$t0" "$BENCH_STOP_CAP_MS")
    record stop_ms "$ms"
    record stop_left "$alive"
    # the stop command may itself still be waiting (on services that never die); the cleanup
    # kills it, after a moment to finish on its own
    for _ in {1..20}; do kill -0 "$stop_pid" 2>/dev/null || break; sleep 0.05; done
}

# (4) one service that exits at once, observed for BENCH_RESPAWN_WINDOW seconds from its first
# start: how often the manager restarts it, and whether it gives up.
respawn() {
    BENCH_RESPAWN=$1
    setup "$dir" 1 "$service --marker $dir/started --exit-now"
    start "$dir"
    wait_running "$dir" 1
    local first end starts median min age
    first=$(awk 'NR == 1 {print $2; exit}' "$dir/started")
    sleep "$BENCH_RESPAWN_WINDOW"
    end=${EPOCHREALTIME/./}000
    read -r starts median min age < <("$tool" respawn-stats "$dir/started" "$end")
    record starts "$starts"
    record interval_median_ms "$median"
    record interval_min_ms "$min"
    record window_s "$(((end - first) / 1000000000)).$(((end - first) / 100000000 % 10))"
    # quiet for the last second, and for three typical intervals, means it stopped retrying
    record gave_up "$(awk -v a="$age" -v m="$median" \
        'BEGIN { print (a > 1000 && (m == "-" || a > 3 * m)) ? "yes" : "no" }')"
    stop "$dir" >"$dir/stop.out" 2>&1 || true
}

# (6) one service writes BENCH_LOG_BYTES of numbered lines; time from its start to the last
# byte in its log, then every line checked.
log() {
    BENCH_LOG=1
    setup "$dir" 1 "$service --marker $dir/started --spew $BENCH_LOG_BYTES"
    start "$dir"
    wait_running "$dir" 1
    local first done_ns bytes want=$((BENCH_LOG_BYTES / 13 * 13)) status=0
    first=$(awk 'NR == 1 {print $2; exit}' "$dir/started")
    read -r done_ns bytes < <("$tool" wait-bytes "$(log_dir "$dir")" "$want" \
        "$BENCH_LOG_CAP_MS" 3000) || status=1
    local tenths=$(((done_ns - first) / 100000))
    local ms=$((tenths / 10)).$((tenths % 10))
    [ "$status" = 0 ] || record incomplete_bytes "$((want - bytes))"
    record log_ms "$ms"
    record log_mb_s "$(awk -v b="$bytes" -v ms="$ms" 'BEGIN { printf "%.1f", ms ? b / 1e6 / (ms / 1000) : 0 }')"
    local expected missing dup torn
    read -r expected _ missing dup torn < <("$tool" check-log "$(log_dir "$dir")" "$want")
    record lines "$expected"
    record lost "$missing"
    record torn "$torn"
    record duplicated "$dup"
    stop "$dir" >"$dir/stop.out" 2>&1 || true
}

# (7) The manager started, its N services set up to wait (tend: N jobs "start on go"; the
# floor: N to spawn on a signal), then one trigger (adapter's go): time from the trigger to
# every service's start record. The same origin for every manager: it has started and read its
# configuration before the clock starts.
fanout() {
    local t0 t1 t2
    BENCH_ON_GO=1
    setup "$dir" "$n" "$service --marker $dir/started"
    start "$dir"
    t0=${EPOCHREALTIME/./}
    go "$dir"
    t1=${EPOCHREALTIME/./}
    wait_running "$dir" "$n"
    t2=${EPOCHREALTIME/./}
    record go_return_ms "$(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))"
    record all_running_ms "$(((t2 - t0) / 1000)).$(((t2 - t0) % 1000 / 100))"
    stop "$dir" >"$dir/stop.out" 2>&1 || true
}

# Not measured: the first start of a binary not run for a while pays for the page cache.
warmup() {
    setup "$dir" "$n" "$service --marker $dir/started"
    start "$dir"
    wait_running "$dir" "$n"
    stop "$dir" >"$dir/stop.out" 2>&1 || true
}

case "$scenario" in
    warmup) warmup ;;
    lifecycle) lifecycle ;;
    respawn-default) respawn default ;;
    respawn-fast) respawn fast ;;
    log) log ;;
    fanout) fanout ;;
    *) echo "scenario.sh: unknown scenario $scenario" >&2; exit 100 ;;
esac
