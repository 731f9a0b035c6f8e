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

# For a script that writes a results file NAME: sets results (unless --results gave one) to
# bench/results/NAME, or BUILD_DIR/NAME for --quick; official (1 for bench/results); and commit
# and dirty, which the results name. Official results need a committed tree.
# shellcheck disable=SC2034 # the variables are the sourcing script's
results_and_commit() {
    local name=$1 here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    official=0
    if [ -z "$results" ]; then
        if [ "$quick" = 1 ]; then
            results=$build/$name
        else
            results=$here/bench/results/$name
            official=1
        fi
    fi
    commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
    # Untracked files (a build directory's symlink) do not change what ran.
    dirty=""
    if git -C "$here" status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then
        dirty=" (with uncommitted changes)"
        if [ "$official" = 1 ]; then
            echo "uncommitted changes in $here: commit them first, the results name the commit" >&2
            exit 1
        fi
    fi
}

# The opening of a results file: its title, then which command wrote it, at which commit, when
# and on what machine. $1: the title; $2: the script, as run from the project root.
results_header() {
    echo "# $1"
    echo
    echo "Written by \`$2 $build_arg$args_text\`"
    echo "at commit $commit$dirty on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores,"
    echo "$(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' /etc/os-release)."
}

# Which binary a results file measured, for when it is not the commit's own build: its version
# and the first 12 digits of its GNU build ID. $1: the binary.
binary_identity() {
    echo "The binary: \`$("$1" --version)\`, build ID" \
        "$(readelf -n "$1" | awk '/Build ID/ {print substr($3, 1, 12)}')."
}
