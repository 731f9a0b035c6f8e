#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/completion/_tendctl in a real interactive zsh (zsh_completion_driver.zsh) against a
# real tend with a few jobs (completion_fixture.sh): commands, options per command, job names,
# event names, --socket and the shortcuts. zsh is in scripts/install-deps, so a missing zsh
# fails the test.
#   zsh_completion_test.sh TEND TENDCTL COMPLETION_DIR
set -euo pipefail
tend=$(realpath "$1") tendctl=$(realpath "$2") completion_dir=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v zsh >/dev/null; then
    echo "FAIL: zsh is not installed; scripts/install-deps installs it" >&2
    exit 1
fi
zsh -n "$completion_dir/_tendctl" || { echo "FAIL: zsh cannot parse _tendctl" >&2; exit 1; }

# shellcheck source=tests/integration/completion_fixture.sh
source "$here/completion_fixture.sh"
start_completion_fixture "$tend" "$tendctl"
tmp=${tmp:?} # set by the fixture
socket=$XDG_RUNTIME_DIR/tend/control

jobs="alpha beta net/web worker"
builtin_events="session-end started starting startup stopped stopping"
commands="check-config emit explain graph list log log-priority monitor plugins reexec reload
reload-configuration restart show-config start status stop usage version"
commands=${commands//$'\n'/ }
# LINE|WHAT IT MUST OFFER, exactly (sorted); lines starting with '!' change the environment.
cases=(
    "tendctl st|start status stop"
    "tendctl |$commands"
    "tendctl -|--help --json --socket --version"
    "tendctl start |$jobs"
    "tendctl status |$jobs"
    "tendctl explain |$jobs"
    "tendctl log |$jobs"
    "tendctl show-config |$jobs"
    "tendctl start -|--json --no-wait -n"
    "tendctl stop -|--all --json --no-wait -n"
    "tendctl log -|--follow --json --lines -f -n"
    "tendctl log -n |"
    "tendctl reexec -|--binary --json"
    "tendctl start alpha |"
    "tendctl emit |beta-done $builtin_events worker-ready"
    "tendctl log-priority |debug error fatal info message warn"
    "tendctl check-config -|--ignore-events --json --offline --provided-jobs --warn -i -j -w"
    "tendctl check-config |web.conf"
    "tendctl check-config -i |beta-done $builtin_events worker-ready"
    "tendctl graph -|--json"
    "tendctl status -|--json"
    "$tendctl status |$jobs"
    "start |$jobs"
    "status w|worker"
    "stop al|" # stop is no link to tendctl here: left to its own completion, not given jobs
    "!unset XDG_RUNTIME_DIR"
    "tendctl --socket $socket status |$jobs"
    "tendctl --socket=$socket status |$jobs"
    "tendctl status |"
    "!export TEND_SESSION=$tmp/no-such-socket"
    "tendctl emit |$builtin_events"
)
lines=()
for case in "${cases[@]}"; do
    lines+=("${case%%|*}")
done

output=$(cd "$tmp/files" && timeout 60 zsh -f "$here/zsh_completion_driver.zsh" "$completion_dir" \
    "${lines[@]}")
expected=$(for case in "${cases[@]}"; do
    line=${case%%|*} want=${case#*|}
    [[ $line == '!'* ]] && continue
    printf '== %s\n-> %s\n' "$line" "$want"
done)
if ! diff -u <(printf '%s\n' "$expected") <(printf '%s\n' "$output") >"$tmp/diff"; then
    echo "FAIL: what zsh offers (+) differs from what it must offer (-):" >&2
    cat "$tmp/diff" >&2
    exit 1
fi
# Every option tendctl --help shows for a command.
help_options=$(bash "$here/tendctl_help_options.sh" "$tendctl")
mapfile -t help_commands < <(cut -d' ' -f1 <<<"$help_options" | sort -u)
[ "${#help_commands[@]}" -gt 0 ] || { echo "FAIL: no options found in tendctl --help" >&2; exit 1; }
lines=()
for command in "${help_commands[@]}"; do
    lines+=("tendctl $command -")
done
output=$(cd "$tmp/files" && timeout 60 zsh -f "$here/zsh_completion_driver.zsh" "$completion_dir" \
    "${lines[@]}")
while read -r command option; do
    offered=$(grep -A1 -xF "== tendctl $command -" <<<"$output" | sed -n 's/^-> //p')
    [[ " $offered " == *" $option "* ]] ||
        { echo "FAIL: 'tendctl $command -<TAB>' does not offer $option: $offered" >&2; exit 1; }
done <<<"$help_options"
echo "zsh completion: ${#cases[@]} cases passed, and the options of ${#help_commands[@]} commands"
