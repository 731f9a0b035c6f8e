#!/usr/bin/env bash
# `tendctl reexec` with N jobs running (0 and 1,000; each with its output pipes, as `console log`
# gives): the time from running `tendctl reexec` to the new tend answering `tendctl status` of
# a job, measured around both commands (two tendctl starts included). Each size is re-executed
# REEXECS times in a row; after the last, every job must still run with the process it had.
# Writes its results (medians with min-max, the command, commit, date and machine) as Markdown
# to RESULTS (default bench/results/reexec.md; --quick: BUILD_DIR/reexec.md, sizes 0 and 50, 3
# re-execs). Official results (the default RESULTS) need a committed tree. Every process it
# starts is gone when it returns.
#   bench/reexec_scenarios.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
tendctl=$build/core/tendctl
sizes="0 1000"
reexecs=20
if [ "$quick" = 1 ]; then
    sizes="0 50"
    reexecs=3
fi
for file in "$tend" "$tendctl"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
results_and_commit reexec.md

work=$(mktemp -d /tmp/tend-bench-XXXXXX)
tree=""
cleanup() {
    [ -z "$tree" ] || stop_tend "$tree"
    rm -rf "$work"
}
trap cleanup EXIT

ctl() { "$tendctl" --socket "$tree/run/control" "$@"; }
running() { ctl list | grep -c 'start/running' || true; }
now_us() { echo $(($(date +%s%N) / 1000)); }

samples=$work/samples
: >"$samples"
for size in $sizes; do
    tree=$work/size-$size
    mkdir -p "$tree/jobs"
    # The job status asks about, and SIZE others.
    printf 'start on startup\nexec sleep 100000\n' >"$tree/jobs/probe.conf"
    for i in $(seq 1 "$size"); do
        printf 'start on startup\nexec sleep 100000\n' >"$tree/jobs/job$i.conf"
    done
    "$tend" --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" --log-dir "$tree/log" \
        --log-file "$tree/tend.log" --log-level info
    for _ in $(seq 1 1200); do
        [ "$(running)" -ge $((size + 1)) ] && break
        sleep 0.1
    done
    before=$(ctl list | sort)
    for i in $(seq 1 "$reexecs"); do
        start=$(now_us)
        said=$(ctl reexec)
        ctl status probe >/dev/null
        end=$(now_us)
        expected="tend re-executed; $((size + 1)) job instance(s) carried over"
        [ "$said" = "$expected" ] || { echo "re-exec $i at size $size said: $said" >&2; exit 1; }
        echo "$size $(((end - start)))" >>"$samples"
    done
    if [ "$(ctl list | sort)" != "$before" ]; then
        echo "after $reexecs re-execs at size $size, the jobs' processes changed" >&2
        exit 1
    fi
    stop_tend "$tree"
    tree=""
done

# "median min max" in ms of the samples at size $1.
stats() {
    awk -v n="$1" '$1 == n {printf "%.2f\n", $2 / 1000}' "$samples" | sort -g |
        awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[1], v[NR]}'
}
mkdir -p "$(dirname "$results")"
{
    results_header "Re-exec: results" bench/reexec_scenarios.sh
    echo
    echo "$reexecs re-execs in a row at each size; every job kept its process through all of them."
    echo
    echo "| jobs running | \`tendctl reexec\` + \`tendctl status\`, ms: median [min–max] |"
    echo "|---|---|"
    for size in $sizes; do
        read -r median low high < <(stats "$size")
        echo "| $((size + 1)) | $median [$low–$high] |"
    done
} >"$results"
echo "results written to $results"
cat "$results"
