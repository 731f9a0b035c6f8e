#!/usr/bin/env bash
# What a running job instance costs tend in memory, two builds side by side, interleaved round by
# round (the order flips every round). Each round loads JOBS `exec sleep` jobs twice under a
# global table of VARS variables of about 100 bytes each (a desktop session's size): once with
# none of them started, once with all of them started by `startup`. The difference of tend's
# resident set, divided by JOBS, is the memory per started instance; the time from tend's start
# to the last job running is the start cost of the whole set.
#   bench/instance_memory.sh BEFORE_BUILD AFTER_BUILD [ROUNDS] [RESULTS_FILE] [JOBS] [VARS]
# Appends every round's figures and the medians (min-max) to RESULTS_FILE.
set -euo pipefail
before=$1
after=$2
rounds=${3:-3}
results=${4:-instance-memory-results.txt}
jobs=${5:-1000}
vars=${6:-40}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

{
    echo
    echo "# bench/instance_memory.sh $before $after $rounds (jobs=$jobs vars=$vars)"
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores"
} >>"$results"

# The session's variables: imported names (XDG_*), each about 100 bytes.
session_env=(PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME")
for i in $(seq 1 "$vars"); do
    session_env+=("XDG_BENCH_VARIABLE_$i=$(printf '/run/user/1000/bench/%078d' "$i")")
done

# Starts tend on JOBS jobs whose `start on` is $2; prints "RSS_KB MS_TO_ALL_RUNNING".
measure() {
    local build=$1 start_on=$2 tree daemon begin end want rss
    tree=$(mktemp -d /tmp/tend-instance-memory-XXXXXX)
    mkdir -p "$tree/jobs"
    for i in $(seq 1 "$jobs"); do
        printf 'start on %s\nconsole none\nexec sleep 100000\n' "$start_on" >"$tree/jobs/idle$i.conf"
    done
    want=$jobs
    [ "$start_on" = startup ] || want=0
    begin=$(date +%s%N)
    env -i "${session_env[@]}" "$build/core/tend" --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" \
        --log-dir "$tree/log" --log-file "$tree/tend.log" --log-level warn
    for _ in $(seq 1 1200); do
        [ "$("$build/core/tendctl" --socket "$tree/run/control" list 2>/dev/null |
            grep -c 'start/running' || true)" -ge "$want" ] &&
            [ -S "$tree/run/control" ] && break
        sleep 0.05
    done
    end=$(date +%s%N)
    sleep 1  # let the allocator settle
    daemon=$(cat "$tree/run/tend.pid")
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$daemon/status")
    echo "$rss $(((end - begin) / 1000000))"
    stop_tend "$tree"
    rm -rf "$tree"
}

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="before after"; else order="after before"; fi
    for name in $order; do
        if [ "$name" = before ]; then build=$before; else build=$after; fi
        read -r idle_rss _ <<<"$(measure "$build" never-emitted)"
        read -r busy_rss start_ms <<<"$(measure "$build" startup)"
        per=$(awk -v a="$busy_rss" -v b="$idle_rss" -v n="$jobs" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
        echo "rss_loaded_kb $name $idle_rss" | tee -a "$rows" "$results"
        echo "rss_running_kb $name $busy_rss" | tee -a "$rows" "$results"
        echo "bytes_per_instance $name $per" | tee -a "$rows" "$results"
        echo "start_all_ms $name $start_ms" | tee -a "$rows" "$results"
    done
done

echo | tee -a "$results"
echo "figure                 build   median of $rounds rounds (min-max)" | tee -a "$results"
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
