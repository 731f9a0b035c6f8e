# shellcheck shell=bash
# Shared by the whole-process scenario scripts in bench/ (sourced, not run).

# The scenario scripts' command line, BUILD_DIR [--quick] [--results FILE]: sets build_arg (as
# given, for the results file: no machine paths there), build (absolute), quick (0 or 1),
# results (empty for the script's default) and args_text (the options to repeat in the results).
# shellcheck disable=SC2034 # the variables are the sourcing script's
parse_scenario_args() {
    build_arg=$1
    build=$(cd "$1" && pwd)
    shift
    quick=0
    results=""
    args_text=""
    while [ $# -gt 0 ]; do
        case $1 in
        --quick) quick=1; args_text+=" --quick" ;;
        --results) results=$2; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
        esac
        shift
    done
}

# Sends SIGTERM to process $1 and waits up to 20 s for it to be gone (or a zombie, waiting for a
# parent, a subreaper above this script, to reap it).
stop_pid() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 1 400); do
        kill -0 "$1" 2>/dev/null || return 0
        [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.05
    done
}

# Stops the tend whose runtime directory is $1/run (SIGTERM, then up to 20 s for it to end its
# jobs and exit) and forgets its pid file.
stop_tend() {
    local daemon
    daemon=$(cat "$1/run/tend.pid" 2>/dev/null || true)
    [ -z "$daemon" ] || stop_pid "$daemon"
    rm -f "$1/run/tend.pid"
}
