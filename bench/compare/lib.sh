# shellcheck shell=bash
# Shared by bench/compare/scenario.sh and the adapters in bench/compare/adapters/. Sourced,
# never run, so it and the adapters run under scenario.sh's set -euo pipefail.
# scripts/bench-compare exports:
#   BENCH_BIN          bcmp-service, bcmp-floor and bcmp-tool
#   BENCH_TEND, BENCH_TENDCTL
#   BENCH_SESSION      a unique word in every command line the harness causes (paths, service
#                      names), so that pgrep -f finds everything it started and nothing else
#   BENCH_TAG          prefix of this run's service names; contains BENCH_SESSION
# and, per run, the knobs an adapter's setup reads besides its arguments:
#   BENCH_RESPAWN      ""        services are not expected to exit
#                      default   the manager's own respawn policy, as shipped
#                      fast      the fastest respawn its configuration allows
#   BENCH_LOG          1: capture the service's stdout with the manager's own logger
#   BENCH_KILL_TIMEOUT seconds between SIGTERM and SIGKILL on stop, where the manager has one
#   BENCH_ON_GO        1: the services must not start with the manager but when go DIR is
#                      called (the fan-out scenario; only adapters that define go)
#
# An adapter defines: setup DIR N SERVICE_CMD, start DIR (returns once the manager runs, or
# once it is ready for go when BENCH_ON_GO=1), wait_running DIR N, stop DIR, manager_pids DIR
# (manager first), log_dir DIR (where BENCH_LOG output lands), and sets ADAPTER_NOTE (one line
# for the report: how it is configured, how it stops). Optionally: go DIR (fan-out), and the
# promises scenario.sh holds it to, each a failure of the run when broken:
#   ADAPTER_STOP_LEAVES_NONE=1  after stop DIR the manager exits, and only once no service is
#                               left (DIR/manager.pid must name it)
#   ADAPTER_IDLE_SILENT=1       no wakeup at all while its services run and nothing happens
# Log directories are created empty by setup and must end up holding only log files, named
# "current", "@*" or "*.log*" (see tool.c).

# Service I's name: the run's tag keeps even "runsv NAME" and "supervise NAME" findable.
svc_name() {
    printf '%s-%d' "$BENCH_TAG" "$1"
}

# Until N start records are in DIR/started (every adapter's wait_running).
wait_marker() {
    "$BENCH_BIN/bcmp-tool" wait-lines "$1/started" "$2" "${BENCH_START_TIMEOUT_MS:-60000}"
}

# A run script for the daemontools family, which can only exec ./run with no arguments: the
# usual "#!/bin/sh" + exec, so each start costs one dash as it does in real deployments.
write_run_script() {
    local file=$1
    shift
    printf '#!/bin/sh\nexec %s\n' "$*" >"$file"
    chmod +x "$file"
}

# Prints the pid of each direct child of PPID whose name is COMM (the per-service supervisors).
children_named() {
    pgrep -P "$1" -x "$2" || true
}
