#!/usr/bin/env bash
# Whole-process scenarios for the standard plugins (issue "Plugins, part 1"), each against a real
# tend loading the built plugins from a private plugins.d:
#   1. file-bridge: from a file event to the start of the job waiting for it, with 1,000 jobs
#      loaded, each waiting for a file of its own (bench/file_event_latency; target median < 5 ms);
#   2. logrotate: one job's output (100-byte lines) through tend into its log, timed as the
#      job's run (its writes block on the pipe when tend falls behind): rotation off (the plugin
#      not loaded), every 10 MB gzipped, every 10 MB plain; rounds interleaved (target: rotating
#      at >= 90% of the throughput without);
#   3. logrotate: the loop's longest stall while a 100 MB log rotates and is gzipped: control
#      round trips back to back on an open connection all through the rotation, beside the same
#      round trips with nothing rotating;
#   4. env-manager: `set-env` of a global variable with 1,000 jobs running, as a round trip on an
#      open connection (target < 1 ms).
# Writes its results (medians with min-max, the command, commit, date and machine) as Markdown to
# RESULTS (default bench/results/plugin-scenarios.md; --quick: BUILD_DIR/plugin-scenarios.md), and
# every process it starts is gone when it returns.
#   bench/plugin_scenarios.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
tendctl=$build/core/tendctl
plugins=$build/plugins.d
jobs=1000
triggers=200
mb=100
rounds=5
stall_mb=100
stall_runs=3
setenv_n=2000
if [ "$quick" = 1 ]; then
    jobs=50
    triggers=20
    mb=8
    rounds=1
    stall_mb=8
    stall_runs=1
    setenv_n=100
fi
[ -n "$results" ] || results=$([ "$quick" = 1 ] && echo "$build/plugin-scenarios.md" ||
    echo "$here/bench/results/plugin-scenarios.md")

tree=$(mktemp -d /tmp/tend-bench-plugins-XXXXXX)
cleanup() {
    for run in "$tree"/t*; do
        [ -d "$run" ] && stop_tend "$run"
    done
    rm -rf "$tree"
}
trap cleanup EXIT

# A fresh tend in $tree/$1 with the plugins named after it; jobs are written to $tree/$1/jobs
# before. Settings for logrotate come from $LOGROTATE_CONF.
start_tend() {
    local run=$tree/$1
    shift
    mkdir -p "$run/jobs" "$run/plugins"
    chmod 0755 "$run/plugins"
    for plugin in "$@"; do
        cp "$plugins/$plugin.so" "$run/plugins/"
        chmod 0644 "$run/plugins/$plugin.so"
    done
    printf '%s\n' "${LOGROTATE_CONF:-}" >"$run/plugins/logrotate.conf"
    "$tend" --jobs-dir "$run/jobs" --runtime-dir "$run/run" --log-dir "$run/log" \
        --log-file "$run/tend.log" --log-level warn --plugins-dir "$run/plugins"
}
ctl() {
    local run=$tree/$1
    shift
    "$tendctl" --socket "$run/run/control" "$@"
}
now_ns() { date +%s%N; }
# Median, min and max of a column of numbers: "median [min-max]".
summary() {
    sort -g | awk '{v[NR] = $1} END {
        printf "%.3f [%.3f–%.3f]", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# ---- 1. file-bridge ---------------------------------------------------------------------------
echo "## file event -> job start, $jobs jobs loaded, $triggers triggers"
mkdir -p "$tree/t1/jobs" "$tree/files"
for i in $(seq 0 $((jobs - 1))); do
    printf 'start on file FILE=%s/trigger-%d EVENT=create\ntask\nconsole none\nexec %s stamp %s/started-%d\n' \
        "$tree/files" "$i" "$build/bench/tend_file_event_latency" "$tree/files" "$i" \
        >"$tree/t1/jobs/watch$i.conf"
done
start_tend t1 file-bridge
"$build/bench/tend_file_event_latency" run "$tree/files" "$jobs" "$triggers" | tee "$tree/file-bridge"
stop_tend "$tree/t1"

# ---- 2. logrotate throughput ------------------------------------------------------------------
echo
echo "## one job's output through tend into its log: $mb MB, $rounds interleaved rounds"
line=$(printf 'x%.0s' $(seq 1 99))
# Whole 100-byte lines: a cut line would gain the newline tend adds at the end of a stream.
bytes=$((mb * 1024 * 1024 / 100 * 100))
writer() {
    printf 'task\nconsole log\nexec sh -c %s\n' \
        "'yes $line | head -c $bytes'" >"$tree/$1/jobs/writer.conf"
}
# The bytes of the job's log and its rotations, decompressed.
logged_bytes() {
    local dir=$tree/$1/log plain gz=0
    plain=$(find "$dir" -name 'writer.log*' ! -name '*.gz' ! -name '*.partial' -exec cat {} + |
        wc -c)
    if [ -n "$(find "$dir" -name 'writer.log*.gz' | head -1)" ]; then
        gz=$(find "$dir" -name 'writer.log*.gz' -exec cat {} + | gzip -dc | wc -c)
    fi
    echo $((plain + gz))
}
for round in $(seq 1 "$rounds"); do
    for mode in off gz plain; do
        run=t2-$round-$mode
        mkdir -p "$tree/$run/jobs"
        writer "$run"
        case $mode in
        off) LOGROTATE_CONF="" start_tend "$run" ;;
        gz) LOGROTATE_CONF=$'setting size 10M\nsetting keep 100' start_tend "$run" logrotate ;;
        plain) LOGROTATE_CONF=$'setting size 10M\nsetting keep 100\nsetting compress no' \
            start_tend "$run" logrotate ;;
        esac
        t0=$(now_ns)
        ctl "$run" start writer >/dev/null
        t1=$(now_ns)
        # Every byte arrives (rotated and compressed ones included) before the next round.
        for _ in $(seq 1 600); do
            ctl "$run" rotate-logs writer >/dev/null 2>&1 || true
            [ -z "$(find "$tree/$run/log" -name '*.rotating-*' -o -name '*.partial')" ] &&
                [ "$(logged_bytes "$run")" = "$bytes" ] && break
            sleep 0.1
        done
        got=$(logged_bytes "$run")
        [ "$got" = "$bytes" ] || { echo "lost bytes: $got of $bytes" >&2; exit 1; }
        rotations=$(find "$tree/$run/log" -name 'writer.log.*' | wc -l)
        echo "$mode round $round: $(awk -v b="$bytes" -v t=$((t1 - t0)) \
            'BEGIN {printf "%.1f", b / 1048576 / (t / 1e9)}') MB/s, $rotations rotated files, all $got bytes logged" |
            tee -a "$tree/throughput-$mode"
        stop_tend "$tree/$run"
        rm -rf "${tree:?}/$run"
    done
done

# ---- 3. the loop's longest stall while a big log rotates ----------------------------------------
echo
echo "## the loop's longest stall: control round trips while a $stall_mb MB log rotates and is gzipped"
for run_number in $(seq 1 "$stall_runs"); do
    run=t3-$run_number
    mkdir -p "$tree/$run/jobs"
    bytes=$((stall_mb * 1024 * 1024 / 100 * 100))
    writer "$run"
    LOGROTATE_CONF=$'setting size off\nsetting keep 5' start_tend "$run" logrotate
    ctl "$run" start writer >/dev/null
    for _ in $(seq 1 600); do
        [ "$(stat -c %s "$tree/$run/log/writer.log" 2>/dev/null || echo 0)" = "$bytes" ] && break
        sleep 0.1
    done
    ctl "$run" rotate-logs writer >"$tree/$run/rotated" &
    rotating=$!
    # Round trips back to back until the rotation (gzip included) has finished.
    while kill -0 "$rotating" 2>/dev/null; do
        "$build/bench/tend_control_roundtrip" "$tree/$run/run/control" 500 status writer |
            sed 's/^/rotating: /' >>"$tree/stall-rotating-raw-$run_number"
    done
    wait "$rotating"
    grep -q '^rotated ' "$tree/$run/rotated" || { echo "rotation failed" >&2; exit 1; }
    [ -s "$tree/$run/log/writer.log.1.gz" ] || { echo "no writer.log.1.gz" >&2; exit 1; }
    chunks=$(wc -l <"$tree/stall-rotating-raw-$run_number")
    worst=$(field max <"$tree/stall-rotating-raw-$run_number" | sort -g | tail -1)
    echo "rotating: $chunks chunks of 500 round trips, max=$worst ms" | tee -a "$tree/stall-rotating"
    # The same number of round trips with nothing rotating: the longest of as many samples.
    for _ in $(seq 1 "$chunks"); do
        "$build/bench/tend_control_roundtrip" "$tree/$run/run/control" 500 status writer
    done >"$tree/stall-idle-raw-$run_number"
    worst=$(field max <"$tree/stall-idle-raw-$run_number" | sort -g | tail -1)
    echo "idle: $chunks chunks of 500 round trips, max=$worst ms" | tee -a "$tree/stall-idle"
    stop_tend "$tree/$run"
    rm -rf "${tree:?}/$run"
done

# ---- 4. env-manager ---------------------------------------------------------------------------
echo
echo "## set-env of a global variable with $jobs jobs running, $setenv_n round trips"
mkdir -p "$tree/t4/jobs"
for i in $(seq 1 "$jobs"); do
    printf 'start on startup\nconsole none\nexec sleep 100000\n' >"$tree/t4/jobs/idle$i.conf"
done
start_tend t4 env-manager
for _ in $(seq 1 600); do
    [ "$(ctl t4 list | grep -c 'start/running' || true)" -ge "$jobs" ] && break
    sleep 0.1
done
"$build/bench/tend_control_roundtrip" "$tree/t4/run/control" "$setenv_n" set-env BENCH_VAR=1 |
    tee "$tree/set-env"
stop_tend "$tree/t4"

# ---- results ----------------------------------------------------------------------------------
mbs() { sed -n 's/.*: \([0-9.]*\) MB\/s.*/\1/p' "$tree/throughput-$1" | summary; }
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$here" status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
mkdir -p "$(dirname "$results")"
{
    echo "# Plugin scenarios: results"
    echo
    echo "Written by \`bench/plugin_scenarios.sh $build_arg$([ "$quick" = 1 ] && echo " --quick")\`"
    echo "at commit $commit$dirty on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores,"
    echo "$(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' /etc/os-release). Medians with [min–max]."
    echo
    echo "| scenario | result |"
    echo "|---|---|"
    echo "| file event → job start, $jobs jobs loaded ($triggers triggers) | median $(head -1 "$tree/file-bridge" | field median) ms [$(head -1 "$tree/file-bridge" | field min)–$(head -1 "$tree/file-bridge" | field max)], p90 $(head -1 "$tree/file-bridge" | field p90) ms |"
    echo "| floor: the harness spawning the job's program itself ($triggers) | median $(sed -n 2p "$tree/file-bridge" | field median) ms [$(sed -n 2p "$tree/file-bridge" | field min)–$(sed -n 2p "$tree/file-bridge" | field max)] |"
    echo "| job output into its log, rotation off ($mb MB, $rounds rounds) | $(mbs off) MB/s |"
    echo "| the same, rotated every 10 MB, gzipped | $(mbs gz) MB/s |"
    echo "| the same, rotated every 10 MB, plain | $(mbs plain) MB/s |"
    echo "| control round trips while a $stall_mb MB log rotates and is gzipped: the longest ($stall_runs runs) | $(field max <"$tree/stall-rotating" | summary) ms |"
    echo "| as many round trips right after, nothing rotating: the longest ($stall_runs runs) | $(field max <"$tree/stall-idle" | summary) ms |"
    echo "| \`set-env\` round trip, $jobs jobs running ($setenv_n) | median $(field median <"$tree/set-env") ms [$(field min <"$tree/set-env")–$(field max <"$tree/set-env")] |"
} >"$results"
echo
echo "results written to $results"
cat "$results"
