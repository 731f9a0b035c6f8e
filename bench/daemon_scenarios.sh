#!/usr/bin/env bash
# Whole-process scenarios for tend alone: crash-to-restart against the posix_spawn floor, the
# control round trip, and idle wakeups with N jobs running. Every process it starts is gone
# when it returns.
#   bench/daemon_scenarios.sh BUILD_DIR [--quick]
set -euo pipefail
build=$1
quick=${2:-}
tend=$build/core/tend
tendctl=$build/core/tendctl
restarts=300
jobs=1000
idle_seconds=10
if [ "$quick" = "--quick" ]; then
    restarts=20
    jobs=50
    idle_seconds=1
fi

echo "## crash -> restart ($restarts restarts each, medians)"
for round in 1 2 3; do
    "$build/bench/tend_restart_latency" --floor "$restarts"
    "$build/bench/tend_restart_latency" --tend "$tend" "$tendctl" "$restarts"
done

tree=$(mktemp -d /tmp/tend-bench-XXXXXX)
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cleanup() {
    stop_tend "$tree"
    rm -rf "$tree"
}
trap cleanup EXIT
mkdir -p "$tree/jobs"
for i in $(seq 1 "$jobs"); do
    printf 'start on startup\nconsole none\nexec sleep 100000\n' >"$tree/jobs/idle$i.conf"
done
"$tend" --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" --log-dir "$tree/log" \
    --log-file "$tree/tend.log" --log-level warn
pid=$(cat "$tree/run/tend.pid")
for _ in $(seq 1 600); do
    running=$("$tendctl" --socket "$tree/run/control" list | grep -c 'start/running' || true)
    [ "$running" -ge "$jobs" ] && break
    sleep 0.1
done
echo
echo "## control round trip (emit --no-wait, one open connection, $jobs jobs loaded)"
"$build/bench/tend_control_roundtrip" "$tree/run/control" 2000

switches() {
    local total=0
    for status in /proc/"$pid"/task/*/status; do
        total=$((total + $(awk '/^voluntary_ctxt_switches/ {print $2}' "$status")))
    done
    echo "$total"
}
sleep 1
before=$(switches)
cpu_before=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
sleep "$idle_seconds"
after=$(switches)
cpu_after=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
echo
echo "## idle: $running jobs running, ${idle_seconds}s of nothing"
echo "voluntary context switches: $((after - before)); CPU ticks: $((cpu_after - cpu_before))"
echo "tend RSS: $(awk '/^VmRSS/ {print $2, $3}' /proc/"$pid"/status)"
