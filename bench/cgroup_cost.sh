#!/usr/bin/env bash
# What the cgroup of each job costs tend's cold start and stop-all, beside the floor: the
# comparison's lifecycle scenario (bench/compare/scenario.sh: N SIGTERM-ignoring services, a
# kill timeout of 2 s) run for tend as it is (a cgroup per job where it can make them), for tend
# with TEND_CGROUPS=off (process groups only) and for the floor (bench/compare/floor.c), at
# N = 1,000 and 5,000. Rounds are the outer loop, the three in a fresh order per round and size.
# Writes its results (medians with min-max, the command, commit, date and machine) as Markdown to
# RESULTS (default bench/results/cgroup-cost.md; --quick: BUILD_DIR/cgroup-cost.md, N = 100 and
# 300, two rounds). Official results (the default RESULTS) need a committed tree. Every process
# it starts is gone when it returns (scenario.sh kills what each run started).
#   bench/cgroup_cost.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
sizes="1000 5000"
rounds=5
if [ "$quick" = 1 ]; then
    sizes="100 300"
    rounds=2
fi
for file in "$build/core/tend" "$build/core/tendctl"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
results_and_commit cgroup-cost.md

work=$(mktemp -d /tmp/tend-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
for prog in service floor tool; do
    cc -O2 -Wall -Wextra -o "$work/bcmp-$prog" "$here/bench/compare/$prog.c"
done
export BENCH_BIN=$work BENCH_TEND=$build/core/tend BENCH_TENDCTL=$build/core/tendctl
export BENCH_CLK_TCK BENCH_KILL_TIMEOUT=2 BENCH_SETTLE=0.5 BENCH_IDLE=0 BENCH_STOP_CAP_MS=30000
BENCH_CLK_TCK=$(getconf CLK_TCK)
export BENCH_ROOT=$work/runs BENCH_SESSION BENCH_RESULTS=$work/results.tsv BENCH_REP BENCH_SEQ=0
BENCH_SESSION=$(basename "$work")
mkdir -p "$BENCH_ROOT"
: >"$BENCH_RESULTS"
runs=$work/runs.tsv
: >"$runs"

# One lifecycle run: "$1" is tend, tend-nocgroups or floor.
run() {
    local variant=$1 n=$2 manager=tend
    BENCH_SEQ=$((BENCH_SEQ + 1))
    export BENCH_TAG=$BENCH_SESSION-$BENCH_SEQ
    printf '%s\t%s\t%s\n' "$BENCH_SEQ" "$variant" "$n" >>"$runs"
    case $variant in
    floor) manager=floor ;;
    tend-nocgroups) export TEND_CGROUPS=off ;;
    esac
    if ! bash "$here/bench/compare/scenario.sh" lifecycle "$manager" "$n" >"$work/run.out" 2>&1; then
        cat "$work/run.out" >&2
        echo "cgroup_cost: the run of $variant at N = $n failed" >&2
        exit 1
    fi
    unset TEND_CGROUPS
}

# Whether tend makes cgroups here: what a tend with no jobs says of it in its log.
probe=$work/probe
mkdir -p "$probe/jobs"
"$BENCH_TEND" --jobs-dir "$probe/jobs" --runtime-dir "$probe/run" --log-dir "$probe/log" \
    --log-file "$probe/tend.log" --log-level info
stop_tend "$probe"
cgroups=no
grep -q "each job runs in a cgroup" "$probe/tend.log" && cgroups=yes

for BENCH_REP in $(seq 1 "$rounds"); do
    for n in $sizes; do
        for variant in $(printf '%s\n' tend tend-nocgroups floor | shuf); do
            run "$variant" "$n"
        done
    done
    echo "round $BENCH_REP of $rounds done" >&2
done

# "median [min–max]" of metric $3 for variant $1 at size $2.
stat() {
    awk -F'\t' -v v="$1" -v n="$2" -v m="$3" '
        FILENAME == ARGV[1] {if ($2 == v && $3 == n) want[$1] = 1; next}
        ($1 in want) && $2 == m {print $3}' "$runs" "$BENCH_RESULTS" | sort -g |
        awk '{x[NR] = $1} END {if (NR) printf "%s [%s–%s]", x[int((NR + 1) / 2)], x[1], x[NR]; else printf "-"}'
}
mkdir -p "$(dirname "$results")"
{
    results_header "The cost of a cgroup per job: results" bench/cgroup_cost.sh
    echo
    echo "The comparison's lifecycle scenario (bench/compare/scenario.sh): N services that ignore"
    echo "SIGTERM; cold start until every one has started, stop-all until every one has exited"
    echo "(SIGKILL after the 2 s kill timeout). tend as it is (a cgroup per job, in these runs:"
    echo "$cgroups); tend with \`TEND_CGROUPS=off\`; and the floor (bench/compare/floor.c). $rounds round(s),"
    echo "the three in a fresh order per round and size. Milliseconds, median [min–max]."
    echo
    echo "| N | what | cold start | stop-all |"
    echo "|--:|---|---|---|"
    for n in $sizes; do
        for variant in tend tend-nocgroups floor; do
            echo "| $n | $variant | $(stat "$variant" "$n" cold_start_ms) | $(stat "$variant" "$n" stop_ms) |"
        done
    done
    echo
    binary_identity "$build/core/tend"
} >"$results"
cat "$results"
