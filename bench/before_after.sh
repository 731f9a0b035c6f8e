#!/usr/bin/env bash
# Two builds of tend side by side, interleaved round by round (the order flips every round, so
# that the machine's drift falls on both): the dispatch micro-benchmark, crash -> restart, the
# emit round trip with 1,000 jobs loaded, and hot reload (edit -> applied, and the cost of a
# reload-configuration that reads one file or none). For a change that must not cost speed.
#   bench/before_after.sh BEFORE_BUILD AFTER_BUILD [ROUNDS] [RESULTS_FILE]
# Each build needs tend, tendctl and the bench targets (an optimised build: scripts/bench makes
# one in build-bench/). Prints, per figure and build, the median of the rounds' medians and
# their min-max, and writes every round's raw line to RESULTS_FILE with the command.
set -euo pipefail
before=$1
after=$2
rounds=${3:-5}
results=${4:-before-after-results.txt}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

{
    echo "# bench/before_after.sh $before $after $rounds"
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores"
} >"$results"

# One figure of one round: "LABEL BUILD VALUE" on stdout and, whole, in the results file.
record() {
    echo "$1 $2 $3"
    echo "$1 $2 $3 | $4" >>"$results"
}
median_of() { sed -n 's/.*median=\([0-9.]*\).*/\1/p' | head -n 1; }

run_round() {
    local name=$1 build=$2 line tree
    line=$("$build/bench/tend_dispatch_bench" --benchmark_filter='BM_DispatchStartedToThousandClasses' \
        --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
        --benchmark_format=csv 2>/dev/null | grep '_median' | head -n 1)
    record dispatch_started_us "$name" "$(echo "$line" | cut -d, -f3)" "$line"

    line=$("$build/bench/tend_restart_latency" --tend "$build/core/tend" "$build/core/tendctl" 100)
    record restart_ms "$name" "$(echo "$line" | median_of)" "$line"

    tree=$(mktemp -d /tmp/tend-before-after-XXXXXX)
    mkdir -p "$tree/jobs"
    for i in $(seq 1 1000); do
        printf 'start on startup\nconsole none\nexec sleep 100000\n' >"$tree/jobs/idle$i.conf"
    done
    "$build/core/tend" --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" --log-dir "$tree/log" \
        --log-file "$tree/tend.log" --log-level warn
    for _ in $(seq 1 600); do
        [ "$("$build/core/tendctl" --socket "$tree/run/control" list |
            grep -c 'start/running' || true)" -ge 1000 ] && break
        sleep 0.1
    done
    line=$("$build/bench/tend_control_roundtrip" "$tree/run/control" 2000)
    record emit_roundtrip_ms "$name" "$(echo "$line" | median_of)" "$line"
    stop_tend "$tree"
    rm -rf "$tree"

    line=$("$build/bench/tend_reload_latency" "$build/core/tend" 50 1000 5 | tr '\n' ' ')
    record reload_edit_ms "$name" "$(echo "$line" | median_of)" "$line"
    record reload_one_file_ms "$name" \
        "$(echo "$line" | sed -n 's/.*one file changed (1 read): *median=\([0-9.]*\).*/\1/p')" \
        "(the line above)"
}

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="before after"; else order="after before"; fi
    for name in $order; do
        if [ "$name" = before ]; then build=$before; else build=$after; fi
        run_round "$name" "$build" | tee -a "$rows"
    done
done

echo
echo "figure                 build   median of $rounds rounds (min-max)"
sort "$rows" | awk '
    { key = $1 " " $2; values[key] = values[key] " " $3 }
    END {
        for (key in values) {
            n = split(values[key], v, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
            median = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            split(key, k, " ")
            printf "%-22s %-7s %s (%s-%s)\n", k[1], k[2], median, v[1], v[n]
        }
    }' | sort | tee -a "$results"
