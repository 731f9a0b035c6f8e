# SPDX-License-Identifier: MIT
# Completes command lines in a real interactive zsh (on a pseudo-terminal, through zsh/zpty) with
# compinit and the completion functions in FPATH_DIR, and prints what each offers:
#   == LINE
#   -> MATCH MATCH ...          (sorted; empty when nothing is offered)
# A LINE that starts with '!' is run as a command instead (to change the environment).
#   zsh -f zsh_completion_driver.zsh FPATH_DIR LINE...
emulate -L zsh
zmodload zsh/zpty || exit 2
local fpath_dir=$1 out line
local -a lines matches
shift

# Markers are written as ${m}NAME in what is typed, so the echo of the typed text never matches.
local m=@@
zpty shell zsh -f -i
zpty -w shell "PS1= RPROMPT= ; bindkey -e; unsetopt auto_list list_ambiguous beep list_beep"
zpty -w shell "fpath=(${(q)fpath_dir} \$fpath); autoload -Uz compinit; compinit -u -D; m=$m"
# Every match a completion function adds is printed; calls that only ask which words match
# (-O, -A, -D) are passed through untouched.
zpty -w shell 'compadd() {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
    local -a found; local word
    builtin compadd -O found "$@"
    for word in $found; do print -r -- "${m}MATCH:$word"; done
    builtin compadd "$@"
}'
zpty -w shell '_capture() { print -r -- "${m}BEGIN"; _main_complete; print -r -- "${m}END"; }'
zpty -w shell "zle -C capture-complete complete-word _capture; bindkey '^I' capture-complete"
zpty -w shell 'print -r -- "${m}READY"'
zpty -r shell out "*${m}READY*" || { print -u2 "zsh did not start"; exit 2; }

for line in "$@"; do
    if [[ $line == '!'* ]]; then
        zpty -w shell "${line#!}; print -r -- \"\${m}DONE\""
        zpty -r shell out "*${m}DONE*"
        continue
    fi
    zpty -w -n shell "$line"$'\t'
    zpty -r shell out "*${m}END*"
    lines=("${(@f)${out//$'\r'/}}")
    matches=(${(M)lines:#${m}MATCH:*})
    matches=(${(ou)matches#${m}MATCH:})
    print -r -- "== $line"
    print -r -- "-> ${(j: :)matches}"
    zpty -w -n shell $'\C-u'
done
zpty -d shell
