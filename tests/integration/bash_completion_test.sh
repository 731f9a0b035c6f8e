#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/completion/tendctl.bash against a real tend with a few jobs (completion_fixture.sh):
# commands, options per command, job names from `tendctl list` (tab continuation lines and
# repeated instances skipped), event names for `emit`, --socket, and the shortcuts. Run twice:
# with bash-completion's helpers loaded and without them.
#   bash_completion_test.sh TEND TENDCTL COMPLETION_SCRIPT
set -euo pipefail
tend=$(realpath "$1") tendctl=$(realpath "$2") script=$(realpath "$3")
bash_completion=/usr/share/bash-completion/bash_completion

# shellcheck source=tests/integration/completion_fixture.sh
source "$(dirname "$0")/completion_fixture.sh"
start_completion_fixture "$tend" "$tendctl"
tmp=${tmp:?} # set by the fixture

# The checks, run in a clean bash; $1 = with or without bash-completion.
checks=$(
    cat <<'CHECKS'
mode=$1
if [ "$mode" = with ]; then
    source "$BASH_COMPLETION" || { echo "cannot load $BASH_COMPLETION"; exit 1; }
    declare -F _init_completion >/dev/null ||
        { echo "$BASH_COMPLETION has no _init_completion"; exit 1; }
fi
source "$SCRIPT" || exit 1
failures=0
fail() { echo "FAIL ($mode bash-completion): $*" >&2; failures=$((failures + 1)); }

# complete LINE: sets COMP_* as bash does for LINE with the cursor at its end (words split at
# blanks, and at '=' as COMP_WORDBREAKS does), runs the completion and leaves COMPREPLY.
complete_line() {
    local line=$1 word part
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMP_WORDS=()
    for word in $line; do
        while [[ $word == *=* ]]; do
            part=${word%%=*}
            [ -n "$part" ] && COMP_WORDS+=("$part")
            COMP_WORDS+=("=")
            word=${word#*=}
        done
        [ -n "$word" ] && COMP_WORDS+=("$word")
    done
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    local spec function
    spec=$(complete -p "${COMP_WORDS[0]##*/}" 2>/dev/null || complete -p tendctl)
    function=${spec#*-F }
    function=${function%% *}
    "$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}
offered() { printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '; }
expect_has() { # LINE WORD...: the completion of LINE offers every WORD
    local line=$1 word
    shift
    complete_line "$line"
    for word in "$@"; do
        printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$word" ||
            fail "'$line<TAB>' does not offer '$word'; it offers: $(offered)"
    done
}
expect_not() { # LINE WORD...: the completion of LINE offers none of WORD
    local line=$1 word
    shift
    complete_line "$line"
    for word in "$@"; do
        printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$word" &&
            fail "'$line<TAB>' offers '$word'; it offers: $(offered)"
    done
    return 0
}
expect_exactly() { # LINE WORD...: the completion of LINE offers exactly the WORDs
    local line=$1 want got
    shift
    complete_line "$line"
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    got=$(offered)
    [ "$want" = "$got" ] || fail "'$line<TAB>' offers '$got', not '$want'"
}

jobs=(alpha beta net/web worker)
commands=(start stop restart reload status list usage emit reload-configuration version
    log-priority show-config check-config log graph monitor explain plugins reexec)
expect_has "tendctl " "${commands[@]}"
expect_not "tendctl " "${jobs[@]}"
expect_exactly "tendctl st" start status stop
expect_exactly "tendctl -" --socket --json --help --version
for command in start stop restart reload status usage explain log show-config; do
    expect_exactly "tendctl $command " "${jobs[@]}"
done
expect_exactly "tendctl start a" alpha
expect_exactly "tendctl start n" net/web
expect_exactly "tendctl start -n " "${jobs[@]}"
expect_exactly "tendctl start -" -n --no-wait --json
expect_exactly "tendctl stop -" -n --no-wait --all --json
expect_exactly "tendctl stop --all " ""
expect_exactly "tendctl log -" -f --follow -n --lines --json
expect_exactly "tendctl status -" --json
expect_exactly "tendctl log -n " ""
expect_exactly "tendctl reexec -" --json --binary
expect_exactly "tendctl log -n 20 " "${jobs[@]}"
expect_exactly "tendctl start alpha " ""
expect_exactly "tendctl start alpha FOO=bar " ""
expect_exactly "tendctl start FOO=bar " ""
expect_exactly "tendctl emit " startup session-end starting started stopping stopped \
    worker-ready beta-done
expect_exactly "tendctl emit s" startup session-end starting started stopping stopped
expect_exactly "tendctl emit -" -n --no-wait --json
expect_exactly "tendctl log-priority " debug info message warn error fatal
expect_exactly "tendctl check-config -" -i --ignore-events -j --provided-jobs -w --warn --offline --json
expect_has "tendctl check-config " web.conf
expect_exactly "tendctl check-config -i st" startup starting started stopping stopped
expect_exactly "tendctl check-config --ignore-events beta-done,w" beta-done,worker-ready
expect_exactly "tendctl graph -" --json
expect_exactly "tendctl list " ""
# Every option tendctl --help shows for a command.
while read -r command option; do
    expect_has "tendctl $command -" "$option"
done <<<"$HELP_OPTIONS"
expect_exactly "tendctl frobnicate -" ""

# tendctl as the command line names it, and with the --socket it gives.
expect_exactly "$TENDCTL status " "${jobs[@]}"
socket=$XDG_RUNTIME_DIR/tend/control
(
    unset XDG_RUNTIME_DIR
    expect_exactly "tendctl --socket $socket status " "${jobs[@]}"
    expect_exactly "tendctl --socket=$socket status " "${jobs[@]}"
    expect_exactly "tendctl status " ""
    [ "$failures" -eq 0 ]
) || failures=$((failures + 1))

# The shortcuts that are tendctl's links, and only those.
complete -p start >/dev/null 2>&1 || fail "start (a link to tendctl) has no completion"
complete -p status >/dev/null 2>&1 || fail "status (a link to tendctl) has no completion"
complete -p stop >/dev/null 2>&1 && fail "stop (not installed) has a completion"
expect_exactly "start " "${jobs[@]}"
expect_exactly "start -" -n --no-wait --json
expect_exactly "status w" worker

# No tend: nothing to offer, and no error.
(
    export TEND_SESSION=$XDG_RUNTIME_DIR/no-such-socket
    expect_exactly "tendctl start " ""
    expect_exactly "tendctl emit " startup session-end starting started stopping stopped
    [ "$failures" -eq 0 ]
) || failures=$((failures + 1))

exit $((failures > 0))
CHECKS
)

help_options=$(bash "$(dirname "$0")/tendctl_help_options.sh" "$tendctl")
[ -n "$help_options" ] || { echo "FAIL: no options found in tendctl --help" >&2; exit 1; }
status=0
for mode in without with; do
    if [ "$mode" = with ] && [ ! -f "$bash_completion" ]; then
        echo "FAIL: $bash_completion is missing; scripts/install-deps installs bash-completion" >&2
        status=1
        continue
    fi
    (
        cd "$tmp/files"
        env SCRIPT="$script" TENDCTL="$tendctl" BASH_COMPLETION="$bash_completion" \
            HELP_OPTIONS="$help_options" bash --norc --noprofile -c "$checks" bash "$mode"
    ) || status=1
done
[ "$status" -eq 0 ] && echo "bash completion: every check passed, with and without bash-completion"
exit "$status"
