# SPDX-License-Identifier: MIT
# bash completion for tendctl(1) and its shortcuts start, stop, restart, reload and status.
# Completes commands, options per command, job names (from the running tend's `tendctl list`)
# and event names for `emit` (the built-in events plus what `tendctl show-config` says jobs
# emit). Works with bash-completion's helpers when they are loaded, and without them.

_tendctl_commands="start stop restart reload status list usage emit reload-configuration version
log-priority show-config check-config log graph monitor explain plugins reexec"
_tendctl_builtin_events=(startup session-end starting started stopping stopped)

# Runs tendctl for the completion: the one on the command line when that word names tendctl,
# else the tendctl on PATH; with the --socket the command line gives. Never waits long on a
# tend that does not answer.
_tendctl_run() {
    local program=$_tendctl_program
    [[ ${program##*/} == tendctl ]] || program=tendctl
    [[ $program == \~/* ]] && program=$HOME/${program#\~/}
    local -a args=()
    [[ -n $_tendctl_socket ]] && args=(--socket "$_tendctl_socket")
    if type -P timeout >/dev/null; then
        timeout 2 "$program" "${args[@]}" "$@" 2>/dev/null
    else
        "$program" "${args[@]}" "$@" 2>/dev/null
    fi
}

# Job names: the first word of each `tendctl list` line. Lines that begin with a tab list a
# further process of the instance above; instances of one job are named once.
_tendctl_jobs() {
    local line name seen=" "
    while IFS= read -r line; do
        [[ -z $line || $line == $'\t'* ]] && continue
        name=${line%% *}
        [[ $seen == *" $name "* ]] && continue
        seen+="$name "
        printf '%s\n' "$name"
    done < <(_tendctl_run list)
}

# Event names: the built-in ones, and each `  emits NAME` line of `tendctl show-config`
# (globs such as `emits foo-*` are not names one can emit, and are left out).
_tendctl_events() {
    local line word
    printf '%s\n' "${_tendctl_builtin_events[@]}"
    while IFS= read -r line; do
        [[ $line =~ ^[[:space:]]+emits[[:space:]]+(.*)$ ]] || continue
        for word in ${BASH_REMATCH[1]}; do
            [[ $word == *[\*\?\[]* ]] || printf '%s\n' "$word"
        done
    done < <(_tendctl_run show-config)
}

# Fills COMPREPLY with the words of $1 (newline- or blank-separated) that start with $cur.
_tendctl_offer() {
    local IFS=$' \t\n'
    mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_tendctl_files() {
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        compopt -o filenames 2>/dev/null
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
    fi
}

_tendctl() {
    local cur prev words cword
    COMPREPLY=()
    if declare -F _init_completion >/dev/null; then
        _init_completion -n = || return
    else
        # Here KEY=VALUE arguments arrive split at '='; they come after the one argument that
        # is completed, so that does no harm.
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${words[cword]}
        prev=${words[cword - 1]}
    fi

    local _tendctl_program=${words[0]} _tendctl_socket=''
    local command='' i=1
    case ${words[0]##*/} in
    start | stop | restart | reload | status) command=${words[0]##*/} ;;
    esac

    # Global options come before the command.
    if [[ -z $command ]]; then
        while ((i < cword)); do
            case ${words[i]} in
            --socket)
                if [[ ${words[i + 1]} == = ]]; then # --socket=PATH, split without bash-completion
                    ((i += 1))
                fi
                ((i + 1 < cword)) && _tendctl_socket=${words[i + 1]}
                ((i += 2))
                ;;
            --socket=*)
                _tendctl_socket=${words[i]#--socket=}
                ((i++))
                ;;
            -*) ((i++)) ;;
            *)
                command=${words[i]}
                ((i++))
                break
                ;;
            esac
        done
        [[ $_tendctl_socket == \~/* ]] && _tendctl_socket=$HOME/${_tendctl_socket#\~/}
        if [[ -z $command ]]; then
            if [[ $prev == --socket || ($prev == = && ${words[cword - 2]} == --socket) ]]; then
                _tendctl_files
            elif [[ $cur == -* ]]; then
                _tendctl_offer "--socket --json --help --version"
            else
                _tendctl_offer "$_tendctl_commands"
            fi
            return 0
        fi
    fi

    # The command's options (--json goes with every command), and which of them take a value.
    local options='--json' value_options='' positional=job
    case $command in
    start) options+=" -n --no-wait" ;;
    restart) options+=" -n --no-wait --reload" ;;
    stop) options+=" -n --no-wait --all" ;;
    reload | status | explain | usage) ;;
    emit)
        options+=" -n --no-wait"
        positional=event
        ;;
    log)
        options+=" -f --follow -n --lines"
        value_options="-n --lines"
        ;;
    show-config) options+=" -e --enumerate" ;;
    check-config)
        options+=" -i --ignore-events -j --provided-jobs -w --warn --offline"
        value_options="-i --ignore-events -j --provided-jobs"
        positional=files
        ;;
    log-priority) positional=priority ;;
    reload-configuration)
        options+=" -d --dry-run"
        positional=''
        ;;
    reexec)
        options+=" --binary"
        value_options="--binary"
        positional=''
        ;;
    list | version | graph | monitor | plugins) positional='' ;;
    *)
        options=''
        positional=''
        ;;
    esac

    # Count the arguments before the cursor; option values are not arguments.
    local count=0 word all=''
    for ((; i < cword; i++)); do
        word=${words[i]}
        if [[ " $value_options " == *" $word "* ]]; then
            ((i++))
        elif [[ $word == --all ]]; then
            all=1
        elif [[ $word != -* ]]; then
            ((count++))
        fi
    done

    case $prev in
    -j | --provided-jobs)
        # Jobs that are not here: nothing to offer.
        return 0
        ;;
    -i | --ignore-events)
        # A comma-separated list: complete its last event.
        local prefix=${cur%"${cur##*,}"}
        cur=${cur##*,}
        _tendctl_offer "$(_tendctl_events)"
        COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
        return 0
        ;;
    esac
    if [[ $prev == --binary ]]; then
        _tendctl_files
        return 0
    fi
    if [[ -n $value_options && " $value_options " == *" $prev "* ]]; then
        return 0 # a number: nothing to offer
    fi
    if [[ $cur == -* ]]; then
        _tendctl_offer "$options"
        return 0
    fi
    [[ -n $all ]] && return 0
    case $positional in
    job) ((count == 0)) && _tendctl_offer "$(_tendctl_jobs)" ;;
    event) ((count == 0)) && _tendctl_offer "$(_tendctl_events)" ;;
    priority) ((count == 0)) && _tendctl_offer "debug info message warn error fatal" ;;
    files) _tendctl_files ;;
    esac
    return 0
}

complete -F _tendctl tendctl
# The shortcuts only where they are tendctl's links: elsewhere these names mean something else
# (Upstart's initctl, say).
_tendctl_register_shortcuts() {
    local name tendctl
    tendctl=$(type -P tendctl) || return 0
    for name in start stop restart reload status; do
        [[ $(type -P "$name") -ef $tendctl ]] && complete -F _tendctl "$name"
    done
    return 0
}
_tendctl_register_shortcuts
unset -f _tendctl_register_shortcuts
