#!/usr/bin/env bash
# One run of one scenario for one manager, in a fresh temporary tree, appending its numbers to
# $BENCH_RESULTS as "seq<TAB>metric<TAB>value" lines (seq: the run's number, BENCH_SEQ; the
# driver keeps what each run was).
#   bench/compare/scenario.sh SCENARIO MANAGER N
# SCENARIO: lifecycle (cold start, memory, idle, stop), respawn-default, respawn-fast, log,
# fanout, warmup (nothing measured). Started by scripts/bench-compare, which exports the BENCH_*
# settings used below.
# It is a process of its own, not a subshell, so that set -e holds inside it while the driver
# carries on with the next run when this one fails.
# Exits 1 on a correctness violation (a log line lost, torn or duplicated; a service left after
# a stop that promises none; a wakeup of a manager that promises none while idle), after
# recording what it measured. A timing never fails a run: every time limit below is either a
# cap that is recorded as such, or a hang limit (BENCH_HANG_MS) far beyond any normal run.
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
hang_ms=${BENCH_HANG_MS:-300000}
export BENCH_START_TIMEOUT_MS=${BENCH_START_TIMEOUT_MS:-$hang_ms}

# Timestamps are ${EPOCHREALTIME/./}: microseconds, and no fork to take them.
record() {
    printf '%s\t%s\t%s\n' "$BENCH_SEQ" "$1" "$2" >>"$BENCH_RESULTS"
}

violations=0
violation() {
    echo "bench-compare: VIOLATION in $scenario / $manager / N=$n (rep $BENCH_REP): $*" >&2
    violations=$((violations + 1))
}

# After a stop, for a manager whose stop ends with its own exit once every service is gone
# (ADAPTER_STOP_LEAVES_NONE=1): wait for that exit, then no service of this run may be left.
# Services are found by their marker path, which every one of them has in its command line.
check_none_left() {
    [ "${ADAPTER_STOP_LEAVES_NONE:-0}" = 1 ] || return 0
    if ! "$tool" wait-exit "$(cat "$dir/manager.pid")" "$hang_ms"; then
        violation "the manager did not exit within $((hang_ms / 1000)) s of its stop"
        return 0
    fi
    local left
    left=$(pgrep -cf -- "--marker $dir/started" || true)
    record left_after_stop "$left"
    [ "$left" = 0 ] || violation "$left service(s) still running after the manager's stop"
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
    if [ "${ADAPTER_IDLE_SILENT:-0}" = 1 ] && [ $((vcsw1 - vcsw0)) -gt 0 ]; then
        violation "$((vcsw1 - vcsw0)) wakeup(s) in $BENCH_IDLE s of idle"
    fi

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
    check_none_left
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
    check_none_left
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
    # The timing gave up on a slow log, the check does not: a line is lost only if it never
    # arrives.
    if [ "$status" != 0 ]; then
        "$tool" wait-bytes "$(log_dir "$dir")" "$want" "$hang_ms" "$((hang_ms / 10))" >/dev/null || true
    fi
    local expected missing dup torn
    read -r expected _ missing dup torn < <("$tool" check-log "$(log_dir "$dir")" "$want")
    record lines "$expected"
    record lost "$missing"
    record torn "$torn"
    record duplicated "$dup"
    # every manager is set up to keep every line, so any loss is a fault of the manager or of
    # its adapter, and either must fail
    [ "$missing" = 0 ] || violation "$missing of $expected log lines lost"
    [ "$torn" = 0 ] || violation "$torn torn log line(s)"
    [ "$dup" = 0 ] || violation "$dup duplicated log line(s)"
    stop "$dir" >"$dir/stop.out" 2>&1 || true
    check_none_left
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
    check_none_left
}

# Not measured: the first start of a binary not run for a while pays for the page cache.
warmup() {
    setup "$dir" "$n" "$service --marker $dir/started"
    start "$dir"
    wait_running "$dir" "$n"
    stop "$dir" >"$dir/stop.out" 2>&1 || true
    check_none_left
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
record violations "$violations"
[ "$violations" = 0 ]
