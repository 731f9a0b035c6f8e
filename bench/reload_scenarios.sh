#!/usr/bin/env bash
# Hot reload, end to end (bench/reload_latency.cpp): edit to applied with 1,000 job files
# watched, and the cost of `reload-configuration` (a full load, one file changed, nothing
# changed). Writes what the harness printed, with the command, commit, date and machine, as
# Markdown to RESULTS (default bench/results/reload-latency.md; --quick: BUILD_DIR/reload-latency.md,
# 10 edits of 50 jobs, 2 repetitions). Official results (the default RESULTS) need a committed
# tree.
#   bench/reload_scenarios.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
harness=$build/bench/tend_reload_latency
edits=200 jobs=1000 repetitions=9
if [ "$quick" = 1 ]; then
    edits=10 jobs=50 repetitions=2
fi
for file in "$harness" "$build/core/tend"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
results_and_commit reload-latency.md
output=$("$harness" "$build/core/tend" "$edits" "$jobs" "$repetitions")
mkdir -p "$(dirname "$results")"
{
    results_header "Hot reload: results" bench/reload_scenarios.sh
    echo
    echo "The harness, \`tend_reload_latency TEND $edits $jobs $repetitions\`, printed:"
    echo
    sed 's/^/    /' <<<"$output"
} >"$results"
echo "results written to $results"
cat "$results"
