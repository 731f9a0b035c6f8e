#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tend-jobs(5) documents every stanza: each keyword of docs/jobs.md's stanza tables (and of its
# Documentation line) and each keyword core registers must have an entry in
# docs/man/tend-jobs.5.scd: a term line with the keyword in bold. tendctl(1) has an entry for
# every command `tendctl --help` lists, naming each of its options, and tend(8) one for every
# option of `tend --help`.
#   man_pages_test.sh SOURCE_DIR TEND TENDCTL
set -euo pipefail
source_dir=$1 tend=$2 tendctl=$3
page=$source_dir/docs/man/tend-jobs.5.scd
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# The keyword of a stanza form such as `respawn limit COUNT SECONDS` or `console log\|none`: its
# leading lower-case words.
keyword_of() {
    local word keyword=""
    for word in $1; do
        [[ $word =~ ^[a-z][a-z-]*$ ]] || break
        keyword+=${keyword:+ }$word
    done
    printf '%s' "$keyword"
}

# The first cell of each table row under "## Stanzas", and the Documentation line's list.
# shellcheck disable=SC2016 # backquotes are the Markdown's, not the shell's
mapfile -t forms < <(awk '
    /^## / { in_stanzas = ($0 == "## Stanzas") }
    !in_stanzas { next }
    /^\| `/ { gsub(/\\\|/, "/"); split($0, cells, "|"); print cells[2] }  # \| is a | in a cell
    /^`description`/ { print }
' "$source_dir/docs/jobs.md" | grep -o '`[^`]*`' | tr -d '`')

keywords=()
for form in "${forms[@]}"; do
    keyword=$(keyword_of "$form")
    [ -n "$keyword" ] && keywords+=("$keyword")
done
[ "${#keywords[@]}" -ge 40 ] ||
    fail "found only ${#keywords[@]} stanza forms in docs/jobs.md; has its layout changed?"

# The keywords core registers (r.add("keyword", ...) in core_stanzas.cpp).
mapfile -t registered < <(grep -o 'r\.add("[a-z-]*"' \
    "$source_dir/core/src/conf/core_stanzas.cpp" | cut -d'"' -f2)
[ "${#registered[@]}" -ge 30 ] ||
    fail "found only ${#registered[@]} registered stanzas in core_stanzas.cpp"

# An entry's term line starts with a bold stanza form, unindented; the text below it is indented.
terms=$(grep '^\*' "$page")
for keyword in "${keywords[@]}" "${registered[@]}"; do
    grep -qF -e "*$keyword*" -e "*$keyword " <<<"$terms" ||
        fail "tend-jobs.5.scd has no entry for the stanza '$keyword' (*$keyword* on a term line)"
done

# Every command in tendctl --help has an entry in tendctl(1), with the options its synopsis
# shows.
tendctl_page=$source_dir/docs/man/tendctl.1.scd
mapfile -t commands < <("$tendctl" --help | awk '/^  [a-z]/ { print $1 }')
[ "${#commands[@]}" -ge 8 ] || fail "tendctl --help lists only ${#commands[@]} commands"
for command in "${commands[@]}"; do
    grep -q "^\*$command\*" "$tendctl_page" ||
        fail "tendctl.1.scd has no entry for the command '$command'"
done
while read -r command option; do
    grep "^\*${command}[* ]" "$tendctl_page" | grep -qF -e "$option*" -e "$option " ||
        fail "tendctl.1.scd does not name $option in the entry for '$command'"
done < <(bash "$(dirname "$0")/tendctl_help_options.sh" "$tendctl")

# Every option of tend --help has an entry in tend(8).
mapfile -t options < <("$tend" --help | grep -o '^  --[a-z-]*' | tr -d ' ')
[ "${#options[@]}" -ge 10 ] || fail "tend --help lists only ${#options[@]} options"
for option in "${options[@]}"; do
    grep -q "^\*$option\*" "$source_dir/docs/man/tend.8.scd" ||
        fail "tend.8.scd has no entry for the option '$option'"
done

if [ "$failures" -ne 0 ]; then
    exit 1
fi
echo "man pages: ${#keywords[@]} stanza forms from docs/jobs.md," \
    "${#registered[@]} registered stanzas, ${#commands[@]} tendctl commands and" \
    "${#options[@]} tend options documented"
