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
official=0
if [ "$quick" = 1 ]; then
    edits=10 jobs=50 repetitions=2
fi
if [ -z "$results" ]; then
    if [ "$quick" = 1 ]; then
        results=$build/reload-latency.md
    else
        results=$here/bench/results/reload-latency.md
        official=1
    fi
fi
for file in "$harness" "$build/core/tend"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
if git -C "$here" status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then
    dirty=" (with uncommitted changes)"
    if [ "$official" = 1 ]; then
        echo "uncommitted changes in $here: commit them first, the results name the commit" >&2
        exit 1
    fi
fi
output=$("$harness" "$build/core/tend" "$edits" "$jobs" "$repetitions")
mkdir -p "$(dirname "$results")"
{
    echo "# Hot reload: results"
    echo
    echo "Written by \`bench/reload_scenarios.sh $build_arg$args_text\`"
    echo "at commit $commit$dirty on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores,"
    echo "$(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' /etc/os-release)."
    echo
    echo "The harness, \`tend_reload_latency TEND $edits $jobs $repetitions\`, printed:"
    echo
    sed 's/^/    /' <<<"$output"
} >"$results"
echo "results written to $results"
cat "$results"
