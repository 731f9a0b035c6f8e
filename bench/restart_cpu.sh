#!/usr/bin/env bash
# What a restart costs tend in CPU, and whether that grows with the jobs that merely run beside
# it: 200 services whose main process lives 4 s and is respawned at once (`respawn delay 0`,
# `respawn limit unlimited`) run beside 0, 1,000 and 5,000 idle jobs. Over a window of 20 s,
# tend's CPU time (every thread) is divided by the restarts in the
# window (the sum of the services' respawn counts, `tendctl --json list`, before and after).
# The CPU is schedstat's time on CPU, every thread, to the nanosecond: /proc's ticks were 10 ms.
# Rounds are the outer loop, so that a slow minute of the machine falls on every size. Each
# round also times the restart of a service killed after 4 s up, under tend's default pacing.
# Writes its results (medians with min-max, the command, commit, date and machine) as Markdown to
# RESULTS (default bench/results/restart-cpu.md; --quick: BUILD_DIR/restart-cpu.md, sizes 0 and
# 100, 20 services living 1 s, one round of 3 s). Official results (the default RESULTS) need a committed tree. Every
# process it starts is gone when it returns.
#   bench/restart_cpu.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
tendctl=$build/core/tendctl
sizes="0 1000 5000"
rounds=3
window=20
loopers=200
life=4
stable_kills=5  # per round: a service killed after a stable run of stable_ms
stable_ms=4000
if [ "$quick" = 1 ]; then
    sizes="0 100"
    rounds=1
    window=3
    loopers=20
    life=1
    stable_kills=2
    stable_ms=1500
fi
harness=$build/bench/tend_restart_latency
for file in "$tend" "$tendctl" "$harness"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
results_and_commit restart-cpu.md

work=$(mktemp -d /tmp/tend-bench-XXXXXX)
tree=""
cleanup() {
    [ -z "$tree" ] || stop_tend "$tree"
    rm -rf "$work"
}
trap cleanup EXIT

# The sum of the loopers' respawn counts.
respawns() {
    "$tendctl" --socket "$tree/run/control" --json list | python3 -c '
import json, sys
jobs = json.load(sys.stdin)["jobs"]
print(sum(i.get("respawns", 0) for j in jobs if j["job"].startswith("loop")
          for i in j["instances"]))'
}
running() {
    "$tendctl" --socket "$tree/run/control" list | grep -c 'start/running' || true
}
# µs on CPU of process $1, every thread.
cpu_us() { cat /proc/"$1"/task/*/schedstat | awk '{n += $1} END {printf "%.0f", n / 1000}'; }

# One round at one size: appends "round R: IDLE RESTARTS CPU_MS CGROUPS" to the samples.
measure() {
    local idle=$1 i pid before after cpu_before cpu_after cgroups=no
    tree=$work/size-$idle
    rm -rf "$tree"
    mkdir -p "$tree/jobs"
    for i in $(seq 1 "$idle"); do
        printf 'start on startup\nconsole none\nexec sleep 100000\n' >"$tree/jobs/idle$i.conf"
    done
    for i in $(seq 1 "$loopers"); do
        printf 'start on go\nconsole none\nrespawn\nrespawn limit unlimited\nrespawn delay 0\nexec sleep %s\n' "$life" \
            >"$tree/jobs/loop$i.conf"
    done
    "$tend" --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" --log-dir "$tree/log" \
        --log-file "$tree/tend.log" --log-level info
    pid=$(cat "$tree/run/tend.pid")
    for _ in $(seq 1 1200); do
        [ "$(running)" -ge "$idle" ] && break
        sleep 0.1
    done
    "$tendctl" --socket "$tree/run/control" emit --no-wait go
    for _ in $(seq 1 1200); do
        [ "$(running)" -ge $((idle + loopers)) ] && break
        sleep 0.1
    done
    # One lifetime of the loopers first, so that the window sees restarts at their steady rate.
    sleep $((life + 1))
    before=$(respawns)
    cpu_before=$(cpu_us "$pid")
    sleep "$window"
    cpu_after=$(cpu_us "$pid")
    after=$(respawns)
    grep -q "each job runs in a cgroup" "$tree/tend.log" && cgroups=yes
    stop_tend "$tree"
    tree=""
    echo "round $round: $idle $((after - before))" \
        "$((cpu_after - cpu_before)) $cgroups" | tee -a "$samples"
}

samples=$work/samples
stable=$work/stable
: >"$samples"
: >"$stable"
for round in $(seq 1 "$rounds"); do
    # A fresh order per round, so that no size always runs first or last.
    # shellcheck disable=SC2086 # a list of sizes
    for idle in $(printf '%s\n' $sizes | shuf); do
        measure "$idle"
    done
    # The restart of a service that had stayed up, under tend's default pacing
    # (`respawn limit unlimited`, no `respawn delay`), and the floor's restart beside it.
    "$harness" --tend "$tend" "$tendctl" "$stable_kills" --pace "$stable_ms" --default-pacing |
        tee -a "$stable"
    "$harness" --floor "$stable_kills" | tee -a "$stable"
done

# "median min max" of the µs of CPU per restart at size $1.
stats() {
    awk -v n="$1" '$3 == n && $4 > 0 {printf "%.1f\n", $5 / $4}' "$samples" | sort -g |
        awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)], v[1], v[NR]; else print "- - -"}'
}
mkdir -p "$(dirname "$results")"
{
    results_header "CPU per restart beside idle jobs: results" bench/restart_cpu.sh
    echo
    echo "$loopers services whose main process lives $life s, respawned at once (\`respawn delay 0\`,"
    echo "\`respawn limit unlimited\`), beside N idle jobs (\`exec sleep 100000\`); a window of"
    echo "${window} s after one lifetime of warm-up; $rounds round(s), the sizes in a fresh order per"
    echo "round. tend's CPU is its time on CPU, all its threads (schedstat, to the ns);"
    echo "restarts are the loopers' respawn counts. Jobs in cgroups of their own:"
    echo "$(awk '{print $6}' "$samples" | sort -u | paste -sd, -)."
    echo
    echo "| idle jobs | restarts per window | µs of tend CPU per restart: median [min–max] |"
    echo "|--:|--:|---|"
    for idle in $sizes; do
        read -r median low high < <(stats "$idle")
        restarts=$(awk -v n="$idle" '$3 == n {print $4}' "$samples" | paste -sd/ -)
        echo "| $idle | $restarts | $median [$low–$high] |"
    done
    echo
    echo "Restart after a stable run: a service under tend's default pacing (\`respawn limit"
    echo "unlimited\`, no \`respawn delay\`) is killed after ${stable_ms} ms up, $stable_kills times"
    echo "per round; SIGKILL to the replacement's first act (\`tend_restart_latency --default-pacing\`),"
    echo "beside the floor (the harness's own \`waitpid\` + \`posix_spawn\`, no pacing). Each"
    echo "round's medians:"
    echo
    sed 's/^/    /' "$stable"
    echo
    echo "Raw samples (round: idle jobs, restarts, CPU µs, cgroups):"
    echo
    sed 's/^/    /' "$samples"
} >"$results"
echo
echo "results written to $results"
cat "$results"
# A window with no restart means the services were not respawned: a failure, never a timing.
if awk '$4 == 0 {found = 1} END {exit !found}' "$samples"; then
    echo "restart_cpu: a window saw no restart; the services were not respawned" >&2
    exit 1
fi
