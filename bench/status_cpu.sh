#!/usr/bin/env bash
# What one `status` request costs tend in CPU: a tend with 1,000 idle jobs answers 8 clients
# (bench/control_load) offering 10,000 `status` requests a second on open connections for a
# window of 10 s; tend's user and system time over the window (/proc, every thread) is divided
# by the replies. Three kinds of run, interleaved in a fresh order per round:
#   text   the request tendctl sends to print text (`"options":{"data":false}`)
#   json   the request a script sends (`tendctl --json status`), the reply with its `data`
#   ref    the same clients against the reference server (control_load --reference-server: one
#          read and one canned write per request), its CPU from wait4: what any server pays
# Writes medians with min-max (per request, in µs) with the command, commit, date and machine
# as Markdown to RESULTS (default bench/results/status-cpu.md; --quick: BUILD_DIR/status-cpu.md,
# 100 jobs, 1,000/s, one round of 2 s). Official results need a committed tree. Every process it
# starts is gone when it returns; a failed or missing reply fails it.
#   bench/status_cpu.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
tendctl=$build/core/tendctl
load=$build/bench/tend_control_load
jobs=1000
rate=10000
window=10
rounds=5
if [ "$quick" = 1 ]; then
    jobs=100
    rate=1000
    window=2
    rounds=1
fi
for file in "$tend" "$tendctl" "$load"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
results_and_commit status-cpu.md

work=$(mktemp -d /tmp/tend-bench-XXXXXX)
tree=$work/tree
cleanup() {
    stop_tend "$tree"
    rm -rf "$work"
}
trap cleanup EXIT
ticks_per_second=$(getconf CLK_TCK)

mkdir -p "$tree/jobs"
for i in $(seq 1 "$jobs"); do
    printf 'start on startup\nconsole none\nexec sleep 100000\n' >"$tree/jobs/idle$i.conf"
done
"$tend" --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" --log-dir "$tree/log" \
    --log-file "$tree/tend.log" --log-level info
pid=$(cat "$tree/run/tend.pid")
for _ in $(seq 1 1200); do
    [ "$("$tendctl" --socket "$tree/run/control" list | grep -c 'start/running' || true)" -ge "$jobs" ] &&
        break
    sleep 0.1
done
"$tendctl" --socket "$tree/run/control" status idle1 | grep -q 'start/running' || {
    echo "status_cpu: idle1 is not running" >&2
    exit 1
}

# "user_ticks system_ticks on_cpu_ns" of process $1, every thread (schedstat counts to the
# nanosecond, the ticks only split it into user and system).
cpu_ticks() {
    echo "$(awk '{print $14, $15}' "/proc/$1/stat")" \
        "$(cat /proc/"$1"/task/*/schedstat | awk '{n += $1} END {printf "%.0f", n}')"
}

samples=$work/samples
: >"$samples"
# One window of kind $1: appends "KIND REPLIES USER_US SYSTEM_US ON_CPU_US" (totals over the
# window).
measure() {
    local kind=$1 output user0 system0 user1 system1 ns0 ns1 replies
    local options=()
    [ "$kind" = text ] && options=(--text)
    [ "$kind" = ref ] && options=(--reference-server)
    read -r user0 system0 ns0 < <(cpu_ticks "$pid")
    output=$("$load" --threads 8 --rate "$rate" --seconds "$window" \
        --socket "$tree/run/control" "${options[@]}" idle1)
    read -r user1 system1 ns1 < <(cpu_ticks "$pid")
    echo "    $kind: $output" >>"$work/raw"
    replies=$(sed -n 's/.*: \([0-9]*\) replies in.*/\1/p' <<<"$output")
    if [ "$kind" = ref ]; then
        # The reference server's own time, from wait4, in seconds.
        read -r on_s user_s system_s < <(sed -n 's/.*reference server CPU: \([0-9.]*\) s on CPU, user \([0-9.]*\) s, system \([0-9.]*\) s.*/\1 \2 \3/p' <<<"$output")
        echo "$kind $replies $(awk -v u="$user_s" -v s="$system_s" -v c="$on_s" \
            'BEGIN {printf "%.0f %.0f %.0f", u * 1e6, s * 1e6, c * 1e6}')" >>"$samples"
    else
        echo "$kind $replies $(((user1 - user0) * 1000000 / ticks_per_second))" \
            "$(((system1 - system0) * 1000000 / ticks_per_second)) $(((ns1 - ns0) / 1000))" >>"$samples"
    fi
    tail -n 1 "$samples"
}

for round in $(seq 1 "$rounds"); do
    for kind in $(printf '%s\n' text json ref | shuf); do
        echo "round $round: $(measure "$kind")"
    done
done

# "median min max" of µs per request of kind $1; field $2: 3 user, 4 system, 5 on CPU.
stats() {
    awk -v k="$1" -v f="$2" '$1 == k && $2 > 0 {printf "%.1f\n", $f / $2}' "$samples" | sort -g |
        awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)], v[1], v[NR]; else print "- - -"}'
}
mkdir -p "$(dirname "$results")"
{
    results_header "CPU per status request: results" bench/status_cpu.sh
    echo
    echo "A tend with $jobs idle jobs (\`console none\`, \`exec sleep\`); 8 clients on open connections"
    echo "offer $rate \`status idle1\` requests a second for ${window} s, request/response"
    echo "(\`tend_control_load --threads 8 --rate $rate\`); $rounds round(s), the kinds in a fresh order"
    echo "per round. tend's CPU is its time on CPU over the window (schedstat, every thread, to the"
    echo "nanosecond), split into user and system by the scheduler's ticks (/proc/PID/stat,"
    echo "${ticks_per_second}/s); the reference server's is its own (schedstat; wait4). Per request, in µs:"
    echo
    echo "| request | replies per window | on CPU: median [min–max] | user | system |"
    echo "|---|--:|---|---|---|"
    for kind in text json ref; do
        case $kind in
        text) label="tend, \`status\` as tendctl prints it (no \`data\`)" ;;
        json) label="tend, \`status\` with its JSON \`data\`" ;;
        ref) label="reference server (one read, one canned write)" ;;
        esac
        read -r um ul uh < <(stats $kind 3)
        read -r sm sl sh < <(stats $kind 4)
        read -r bm bl bh < <(stats $kind 5)
        replies=$(awk -v k=$kind '$1 == k {print $2}' "$samples" | paste -sd/ -)
        echo "| $label | $replies | **$bm** [$bl–$bh] | $um [$ul–$uh] | $sm [$sl–$sh] |"
    done
    echo
    echo "What each run printed:"
    echo
    cat "$work/raw"
    echo
    echo "Raw samples (kind, replies, user µs, system µs, on-CPU µs):"
    echo
    sed 's/^/    /' "$samples"
} >"$results"
echo
echo "results written to $results"
cat "$results"
# A failed reply, or a window without one, is a failure, never a timing.
if grep -q 'failures [1-9]' "$work/raw" || awk '$2 == 0 {found = 1} END {exit !found}' "$samples"; then
    echo "status_cpu: a request failed or went unanswered" >&2
    exit 1
fi
