#!/usr/bin/env bash
# Whether starting a process costs tend more when more jobs run beside it: crash-to-restart
# latency (SIGKILL of a `respawn delay 0` service to its replacement's first act, as
# `tend_restart_latency` measures it) beside 100, 1,000, 3,000 and 4,000 idle `console log` jobs.
# Each holds five descriptors in tend: both ends of its stdout and stderr pipes, and the pidfd
# its exit is seen by. 4,000 is the most a hard limit of 20,000 holds (5,000 jobs need more);
# at 3,000 every child still has a pidfd, at 4,000 the last ones go without (the reaper leaves
# the last eighth of the limit to pipes and clients) and are reaped by a walk over every
# child. The time includes the spawn itself, which the parent waits through (vfork semantics):
# a child that copied tend's whole descriptor table and closed it again at exec made it grow
# with the jobs. Rounds are the outer loop, the sizes in
# a fresh order per round; each round's figure is the median of its restarts.
# Writes its results (medians of the rounds' medians with min-max, the command, commit, date and
# machine) as Markdown to RESULTS (default bench/results/spawn-scaling.md; --quick:
# BUILD_DIR/spawn-scaling.md, sizes 10 and 100, one round of 20 restarts). Official results
# need a committed tree. Every process it starts is gone when it returns.
#   bench/spawn_scaling.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
tendctl=$build/core/tendctl
harness=$build/bench/tend_restart_latency
sizes="100 1000 3000 4000"
rounds=3
restarts=300
if [ "$quick" = 1 ]; then
    sizes="10 100"
    rounds=1
    restarts=20
fi
for file in "$tend" "$tendctl" "$harness"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
results_and_commit spawn-scaling.md
samples=$(mktemp /tmp/tend-bench-XXXXXX)
trap 'rm -f "$samples"' EXIT

for round in $(seq 1 "$rounds"); do
    # shellcheck disable=SC2086 # the sizes are words
    for size in $(printf "%s\n" $sizes | shuf); do
        echo "round $round: $size idle jobs" >&2
        line=$("$harness" --tend "$tend" "$tendctl" "$restarts" --idle "$size")
        echo "$line" >&2
        echo "$size $(sed -n 's/.*median=\([0-9.]*\) ms.*/\1/p' <<<"$line") $line" >>"$samples"
    done
done

{
    results_header "Restart latency beside idle jobs" bench/spawn_scaling.sh
    echo
    binary_identity "$tend"
    echo
    echo "$rounds round(s) of $restarts restarts per size, sizes in a fresh order per round;"
    echo "the median of the rounds' medians, [min–max] of the rounds' medians."
    echo
    python3 - "$samples" <<'PY'
import statistics, sys
rounds = {}
for line in open(sys.argv[1]):
    size, median = line.split()[:2]
    rounds.setdefault(int(size), []).append(float(median))
print("| idle `console log` jobs | crash → restart, ms: median [min–max] |")
print("|--:|---|")
for size in sorted(rounds):
    m = rounds[size]
    print(f"| {size:,} | {statistics.median(m):.3f} [{min(m):.3f}–{max(m):.3f}] |")
PY
    echo
    echo "Each run's line:"
    echo
    sed 's/^[0-9]* [0-9.]* /    /' "$samples"
} >"$results"
echo "wrote $results" >&2
cat "$results"
