#!/usr/bin/env bash
# Whole-process scenarios for the control plane (issue "the control plane's speed"):
#   1. `tendctl status JOB` as a whole process against /bin/true, spawned the same way
#      (bench/spawn_time: N runs in a row per round, rounds interleaved; target <= 2x);
#   2. `tendctl list` with 1,000 jobs, as a whole process and as a round trip on an open
#      connection, which is tend's own time plus the socket (target < 20 ms each);
#   3. crash-to-restart on an idle tend and on one answering 8 clients' `status` requests
#      (bench/control_load), offered at 10,000/s (target: all answered, restart latency <= 1.5x
#      idle), and, in the full run, sent back to back, which saturates the machine. The same
#      restarts done by the harness itself (the floor) beside a tend under the same load show
#      how much of the slowdown is the machine's rather than tend's, and the floor beside the same
#      clients aimed at a reference server (one read and one canned write per request, nothing
#      else) shows what the clients alone cost the machine, whatever server answers them.
# Prints each measurement, then a summary of medians and ratios, and writes both, with the
# command, commit, date and machine, as Markdown to RESULTS (default
# bench/results/control-scenarios.md; --quick: BUILD_DIR/control-scenarios.md). Official results
# need a committed tree. Every process it starts is gone when it returns.
#   bench/control_scenarios.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
tendctl=$build/core/tendctl
spawns=2000    # runs per command per round
list_spawns=200
rounds=5
jobs=1000
restarts=300   # per crash-to-restart run
pace_ms=10     # between restarts, so that a run lasts some seconds under load
rate=10000     # control requests per second offered by the 8 clients
load_runs=3
if [ "$quick" = 1 ]; then
    spawns=200
    list_spawns=20
    rounds=3
    jobs=50
    restarts=30
    load_runs=1
fi

results_and_commit control-scenarios.md
tree=$(mktemp -d /tmp/tend-bench-XXXXXX)
out=$tree/out  # each measurement's output, for the summary
stopTend() { stop_tend "$tree"; }
trap 'stopTend; rm -rf "$tree"' EXIT
mkdir -p "$tree/jobs" "$out"
for i in $(seq 1 "$jobs"); do
    printf 'start on startup\nconsole none\nexec sleep 100000\n' >"$tree/jobs/idle$i.conf"
done
"$tend" --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" --log-dir "$tree/log" \
    --log-file "$tree/tend.log" --log-level warn
socket=$tree/run/control
for _ in $(seq 1 600); do
    running=$("$tendctl" --socket "$socket" list | grep -c 'start/running' || true)
    [ "$running" -ge "$jobs" ] && break
    sleep 0.1
done

echo "## tendctl status as a whole process against /bin/true ($rounds rounds of $spawns runs," \
    "$running jobs running)"
"$build/bench/tend_spawn_time" "$spawns" "$rounds" /bin/true \
    ::: "$tendctl" --socket "$socket" status idle1 \
    ::: "$tendctl" --version | tee "$out/spawn"

echo
echo "## list with $running jobs: whole tendctl process, then the round trip on an open connection"
"$build/bench/tend_spawn_time" "$list_spawns" "$rounds" "$tendctl" --socket "$socket" list |
    tee "$out/list-process"
"$build/bench/tend_control_roundtrip" "$socket" "$((list_spawns * rounds))" list |
    tee "$out/list-roundtrip"
stopTend  # the restart scenarios start tends of their own

echo
echo "## crash -> restart: idle, under 8 clients offering $rate status requests/s, and under" \
    "8 clients sending back to back ($load_runs runs each of $restarts restarts, ${pace_ms} ms apart)"
restart() {
    "$build/bench/tend_restart_latency" --tend "$tend" "$tendctl" "$restarts" --pace "$pace_ms" "$@"
}
for run in $(seq 1 "$load_runs"); do
    restart | tee -a "$out/idle"
    restart --while "$build/bench/tend_control_load" --threads 8 --rate "$rate" steady |
        tee -a "$out/rated"
    restart --floor-beside | tee -a "$out/floor-idle"
    restart --floor-beside --while "$build/bench/tend_control_load" --threads 8 --rate "$rate" \
        steady | tee -a "$out/floor-rated"
    restart --floor-beside --while "$build/bench/tend_control_load" --threads 8 --rate "$rate" \
        --reference-server steady | tee -a "$out/floor-reference"
    if [ "$quick" != 1 ]; then
        restart --while "$build/bench/tend_control_load" --threads 8 steady | tee -a "$out/flat-out"
    fi
done

# The number after `key=` on each line; the median of a column of numbers.
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
roundMeans() { sed -n "s/^$1: .*median of round means \([0-9.]*\) us.*/\1/p"; }
rates() { sed -n 's/.* = \([0-9]*\)\/s;.*/\1/p'; }
lowest() { sed -n 's/.*lowest \([0-9]*\)\/s;.*/\1/p'; }
true_us=$(roundMeans '\/bin\/true' <"$out/spawn")
status_us=$(roundMeans '.* status idle1' <"$out/spawn")
version_us=$(roundMeans '.* --version' <"$out/spawn")
list_ms=$(roundMeans '.* list' <"$out/list-process" | awk '{printf "%.2f", $1 / 1000}')
list_rt_ms=$(field median <"$out/list-roundtrip")
idle_ms=$(field median <"$out/idle" | median)
summary() {
    awk -v t="$true_us" -v s="$status_us" -v v="$version_us" 'BEGIN {
        printf "tendctl status: %.0f us, /bin/true %.0f us: %.2fx (target <= 2x); ", s, t, s / t
        printf "tendctl --version %.0f us (%.2fx)\n", v, v / t }'
    echo "tendctl list, $running jobs: whole process ${list_ms} ms, round trip ${list_rt_ms} ms" \
        "(target < 20 ms)"
    floor_idle_ms=$(field median <"$out/floor-idle" | median)
    floor_rated_ms=$(field median <"$out/floor-rated" | median)
    floor_reference_ms=$(field median <"$out/floor-reference" | median)
    rated_ms=$(field median <"$out/rated" | median)
    awk -v fi="$floor_idle_ms" -v fr="$floor_rated_ms" -v t="$rated_ms" -v ref="$floor_reference_ms" 'BEGIN {
        printf "the floor beside tend, same load: idle %.3f ms, loaded %.3f ms: %.2fx (the machine); ", fi, fr, fr / fi
        printf "tend loaded over the floor loaded: %.2fx\n", t / fr
        printf "the floor beside the same clients and a reference server: %.3f ms: %.2fx idle ", ref, ref / fi
        printf "(what the clients alone cost the machine)\n" }'
    for load in rated flat-out; do
        [ -s "$out/$load" ] || continue
        awk -v what="$load" -v i="$idle_ms" -v l="$(field median <"$out/$load" | median)" \
            -v r="$(rates <"$out/$load" | median)" -v low="$(lowest <"$out/$load" | median)" 'BEGIN {
            printf "crash -> restart under load (%s): idle %.3f ms, loaded %.3f ms: %.2fx ", what, i, l, l / i
            printf "(target <= 1.5x); %d replies/s", r
            if (low != "") printf ", lowest second %d/s", low
            printf " (target >= 10000)\n" }'
    done
}
echo
echo "## summary (medians)"
summary | tee "$out/summary"
mkdir -p "$(dirname "$results")"
{
    results_header "The control plane: results" bench/control_scenarios.sh
    echo
    echo "Medians; the raw output of each measurement follows."
    echo
    sed 's/^/    /' "$out/summary"
    for part in spawn list-process list-roundtrip idle rated floor-idle floor-rated floor-reference flat-out; do
        [ -s "$out/$part" ] || continue
        echo
        echo "$part:"
        echo
        # The build and temporary directories by name, not as paths of this machine.
        sed "s|$build|$build_arg|g; s|$tree|TMP|g; s/^/    /" "$out/$part"
    done
} >"$results"
echo
echo "results written to $results"
