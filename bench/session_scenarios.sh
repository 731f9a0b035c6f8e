#!/usr/bin/env bash
# The desktop session end to end (issue "The desktop session, end to end"): tend as the desktop
# session of a private Xvfb, with the shipped jobs of jobs.d/ and the standard plugins of
# BUILD_DIR/plugins.d, in a private XDG tree and home per round:
#   1. login to ready: from starting tend to the last of the shipped services (the jobs that are
#      not tasks: they stay running) reaching start/running, against a shell script that starts
#      the same programs one after another, as a ~/.xsession without a session manager does,
#      until it has started the last; rounds interleaved (tend first in odd rounds);
#   2. logout: from the X server going away (the harness kills Xvfb: the X session ends) to
#      tend's exit, with every process of the session gone.
# Every round also checks that every shipped job ran (the tasks too, each set off by what it
# waits for), that tend exits 0 and that no process of the session outlives it.
# Writes its results (medians with min-max, the command, commit, date and machine) as Markdown to
# RESULTS (default bench/results/session-scenarios.md; --quick: BUILD_DIR/session-scenarios.md),
# and every process it starts is gone when it returns. Official results (the default RESULTS,
# not --quick) are only written from a clean tree: the commit they name must be what ran.
# --quick is a smoke run of 2 rounds that checks only that everything happened, never a time.
#   bench/session_scenarios.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
tendctl=$build/core/tendctl
plugins=$build/plugins.d
rounds=15
[ "$quick" = 1 ] && rounds=2
for file in "$tend" "$tendctl"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
for plugin in env-manager file-bridge journal-logger logrotate dbus-bridge; do
    [ -f "$plugins/$plugin.so" ] || { echo "missing $plugins/$plugin.so: build it first" >&2; exit 1; }
done
for program in Xvfb xdpyinfo xrdb dbus-daemon dbus-send ssh-agent ssh-add; do
    command -v "$program" >/dev/null || { echo "missing $program (scripts/install-deps)" >&2; exit 1; }
done
results_and_commit session-scenarios.md

# The shipped services: every job of jobs.d/ that is not a task. The shell script below starts
# their programs, so a change to that list must be looked at here.
services=()
for file in "$here"/jobs.d/*.conf; do
    grep -Eq '^[[:space:]]*task[[:space:]]*$' "$file" || services+=("$(basename "$file" .conf)")
done
expected="clock dbus imapfilter rotate-logs ssh-agent"
[ "${services[*]}" = "$expected" ] || {
    echo "jobs.d's services are now ${services[*]}, not $expected: update the shell script" >&2
    exit 1
}

tree=$(mktemp -d /tmp/tend-bench-session-XXXXXX)
# Processes whose environment says XDG_RUNTIME_DIR=$1: tend, its jobs and what they forked, and
# the shell script's programs (the harness's own environment has no such entry).
marked() {
    grep -lzx "XDG_RUNTIME_DIR=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 || true
}
cleanup() {
    local dir pid
    for dir in "$tree"/r*; do
        [ -d "$dir/xdg" ] || continue
        for pid in $(marked "$dir/xdg"); do stop_pid "$pid"; done
        [ -f "$dir/xvfb.pid" ] && stop_pid "$(cat "$dir/xvfb.pid")"
    done
    rm -rf "$tree"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
fail() { echo "round $round, $1" >&2; exit 1; }
# Keeps a round's line in $tree/$1 and shows it; --quick shows no time, only that it happened.
note() {
    echo "$2" >>"$tree/$1"
    if [ "$quick" = 1 ]; then
        echo "round $round, $1: done"
    else
        echo "$1: $2"
    fi
}
# Milliseconds from the µs $1 to the µs $2.
ms_between() { awk -v us=$(($2 - $1)) 'BEGIN {printf "%.1f", us / 1000}'; }

# A read from this fifo never gets data: `read -t` on it is a sleep without a fork.
mkfifo "$tree/never"
exec {never}<>"$tree/never"
nap() { read -r -t "$1" -u "$never" _ || true; }
# Microseconds since the epoch, without a fork.
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
# Waits up to 30 s for the command to succeed, looking every 10 ms; fails the round with $1
# otherwise.
await() {
    local what=$1 deadline=$((SECONDS + 31))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for $what"
        nap 0.01
    done
}

# ---- a round's session: private home and XDG tree, the shipped jobs, a private X server ---------
# $1: the session's directory. A private bin dir on PATH holds the imapfilter stand-in (as
# scripts/demo does): it needs the session bus, and dies now and then.
prepare() {
    local dir=$1
    mkdir -p "$dir/config/tend/jobs.d" "$dir/cache" "$dir/xdg" "$dir/home/Mail/new" "$dir/bin"
    chmod 0700 "$dir/xdg"
    cp "$here"/jobs.d/*.conf "$dir/config/tend/jobs.d/"
    cp "$here/tests/support/imapfilter-standin.sh" "$dir/bin/imapfilter"
    chmod 0755 "$dir/bin/imapfilter"
    # The xresources task loads it; the check reads it back from the X server.
    echo "tendbench.round: $round" >"$dir/home/.Xresources"
}
# Starts the private Xvfb of $1; its display number goes to $1/display.
start_x() {
    local dir=$1
    Xvfb -displayfd 3 -nolisten tcp -screen 0 640x480x24 3>"$dir/display" >"$dir/xvfb.log" 2>&1 &
    echo $! >"$dir/xvfb.pid"
    await "Xvfb's display number" grep -q . "$dir/display"
    display=:$(cat "$dir/display")
    await "Xvfb on $display" xdpyinfo -display "$display" >/dev/null 2>&1
}
# The whole environment of the session in $1 on $display.
session_env() {
    local dir=$1
    senv=(PATH="$dir/bin:$build/core:$PATH" HOME="$dir/home" USER="${USER:-$(id -un)}"
        LOGNAME="${USER:-$(id -un)}" LANG=C.UTF-8 XDG_CONFIG_HOME="$dir/config"
        XDG_CACHE_HOME="$dir/cache" XDG_RUNTIME_DIR="$dir/xdg" XDG_CONFIG_DIRS="$dir/none"
        XDG_DATA_DIRS="$dir/none" DISPLAY="$display")
}
resource_loaded() {
    DISPLAY=$display xrdb -query 2>/dev/null | grep -qx "tendbench.round:[[:space:]]*$round"
}
# A file of the pattern $1 has a line with $2.
logged() {
    local file
    # shellcheck disable=SC2066 # the pattern is expanded here, at each look
    for file in $1; do
        grep -qs "$2" "$file" && return 0
    done
    return 1
}

# ---- 1 and 2 with tend ---------------------------------------------------------------------------
# Ready: `tendctl --json monitor` starts as soon as the control socket exists (looked for every
# millisecond), and a reader that does nothing else writes each of its lines to a file with the
# time it read it (microseconds, no polling, no fork). The monitor shows only what happens once
# it is there: once it has said something, `tendctl --json list` tells which services were
# running already (or have been: respawned), and an event emitted after the list marks where in
# the stream the list stands. A service that ran before the monitor's first line counts at that
# line's time; if that is the last service, the round's figure is an upper bound, and says so.
monitor_reader() {
    local line
    while IFS= read -r line; do
        printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"
    done < <(exec "$tendctl" --socket "$1" --json monitor)
}
# "TIME JOB bound|exact" of the last service to reach running, from the monitor's lines in $1
# and the services running before its first line in $2, once the monitor has shown the marker
# event and every service running; nothing before.
last_running() {
    awk -v services="$expected" -v pre="$2" '
        BEGIN { n = split(services, s, " "); for (i = 1; i <= n; i++) service[s[i]] = 1
                split(pre, p, " "); for (i in p) before[p[i]] = 1 }
        NR == 1 { first = $1 }
        /"event":"tend-bench-listed"/ {
            marked = 1
            for (job in before) if ((job in service) && !(job in at)) { at[job] = first; bound[job] = 1 }
            next }
        /"type":"state"/ && match($0, /"job":"[^"]*"/) {
            job = substr($0, RSTART + 7, RLENGTH - 8)
            if (!(job in service) || (job in at)) next
            # Seen leaving running first: it ran before the monitor was there.
            if ($0 ~ /"from":"running"/) { at[job] = first; bound[job] = 1 }
            else if ($0 ~ /"to":"running"/) at[job] = $1 }
        END {
            if (!marked) exit 1
            for (job in service) {
                if (!(job in at)) exit 1
                if (at[job] > last) { last = at[job]; last_job = job } }
            printf "%.0f %s %s\n", last, last_job, (last_job in bound) ? "bound" : "exact" }' "$1"
}
tend_round() {
    local dir=$tree/r$round-tend sock t0 tend_pid reader pre status=0 t_end left ready=""
    prepare "$dir"
    start_x "$dir"
    session_env "$dir"
    sock=$(env -i "${senv[@]}" "$tend" --print-socket)
    t0=$(now_us)
    env -i "${senv[@]}" "$tend" --foreground --plugins-dir "$plugins" \
        --log-file "$dir/tend.log" &
    tend_pid=$!
    for _ in $(seq 1 30000); do
        [ -S "$sock" ] && break
        nap 0.001
    done
    note socket "round $round: $(ms_between "$t0" "$(now_us)") ms" >/dev/null
    monitor_reader "$sock" >"$dir/monitor" &
    reader=$!
    await "tendctl monitor's first line" test -s "$dir/monitor"
    # Instances' fields come in order: job, ..., respawns, ..., state.
    pre=$("$tendctl" --socket "$sock" --json list |
        grep -o '"job":"[^"]*"\|"respawns":[0-9]*\|"state":"[^"]*"' |
        awk -F'[:"]+' '$2 == "job" {job = $3} $2 == "respawns" {r = $3}
            $2 == "state" && ($3 == "running" || r > 0) {printf "%s ", job}')
    "$tendctl" --socket "$sock" emit -n tend-bench-listed >/dev/null
    # Looked at every 50 ms, not to take the CPU from the session starting: the times are the
    # reader's, whenever this loop sees them.
    for _ in $(seq 1 600); do
        ready=$(last_running "$dir/monitor" "$pre") && break
        nap 0.05
    done
    [ -n "$ready" ] || fail "not every service is running: $(tail -3 "$dir/monitor")"
    read -r last last_job how <<<"$ready"
    kill "$reader" 2>/dev/null || true
    wait "$reader" 2>/dev/null || true
    note ready-tend "round $round: $(ms_between "$t0" "$last") ms$(
        [ "$how" = bound ] && echo " (upper bound)"), last: $last_job"

    # Every shipped job runs: the services above, xresources on desktop-start (it loads
    # ~/.Xresources), keyring-ready when org.freedesktop.secrets gets an owner on the session
    # bus (dbus-bridge, once connected to the bus), mail-notify when mail arrives (file-bridge).
    await "xresources' resource in the X server" resource_loaded
    await "dbus-bridge on the session bus" sh -c \
        "'$tendctl' --socket '$sock' dbus-bridge | grep -q 'session bus: connected to'"
    DBUS_SESSION_BUS_ADDRESS=unix:path=$dir/xdg/bus dbus-send --session --print-reply \
        --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.RequestName \
        string:org.freedesktop.secrets uint32:0 >/dev/null
    echo hello >"$dir/home/Mail/new/1"
    await "keyring-ready's line" logged "$dir/cache/tend/log/keyring-ready.log" "keyring ready: "
    await "mail-notify's line" logged "$dir/cache/tend/log/mail-notify*.log" "new mail: "
    for job in clock dbus rotate-logs ssh-agent; do
        "$tendctl" --socket "$sock" status "$job" | grep -q "start/running" ||
            fail "$job is not running"
    done
    await "imapfilter's line" logged "$dir/cache/tend/log/imapfilter.log" "imapfilter: -v connected"
    await "clock's tick" logged "$dir/cache/tend/log/clock.log" " tick"

    # Logout: the X session ends.
    t0=$(now_us)
    kill "$(cat "$dir/xvfb.pid")"
    wait "$tend_pid" || status=$?
    t_end=$(now_us)
    [ "$status" = 0 ] || fail "tend exited with status $status"
    left=$(marked "$dir/xdg")
    if [ -n "$left" ]; then
        # Count them and wait for them, every millisecond: the logout ends when they are gone.
        note outlived "round $round: $(wc -w <<<"$left") processes outlived tend"
        for _ in $(seq 1 5000); do
            left=$(marked "$dir/xdg")
            [ -z "$left" ] && break
            nap 0.001
        done
        [ -z "$left" ] || fail "processes of the session left: $(tr '\n' ' ' <<<"$left")"
        t_end=$(now_us)
    fi
    wait "$(cat "$dir/xvfb.pid")" 2>/dev/null || true
    note logout "round $round: $(ms_between "$t0" "$t_end") ms, tend exited 0"
    rm -f "$dir/xvfb.pid"
}

# ---- 1 with a shell script -----------------------------------------------------------------------
# What a ~/.xsession without a session manager does with the same programs, one after another:
# each daemon returns once it answers (dbus-daemon --fork once the bus is up, ssh-agent once its
# socket listens), the others go to the background; it is ready when it has started the last.
# It has no equivalent of the tasks set off by events (keyring-ready, mail-notify), nothing
# restarts the imapfilter stand-in when it dies, and the hourly loop has no tend to emit to.
cat >"$tree/xsession.sh" <<'EOF'
log=$XDG_CACHE_HOME/xsession
mkdir -p "$log"
# Its status for the harness: the X server forgets the resources when its last client goes.
[ -r "$HOME/.Xresources" ] && xrdb -merge "$HOME/.Xresources" && echo merged >"$log/xrdb"
DBUS_SESSION_BUS_ADDRESS=$(dbus-daemon --session --fork --print-address \
    --address="unix:path=$XDG_RUNTIME_DIR/bus")
export DBUS_SESSION_BUS_ADDRESS
eval "$(ssh-agent -s -a "$XDG_RUNTIME_DIR/ssh-agent.socket")" >/dev/null
(while true; do date '+%H:%M:%S tick'; sleep 5; done) >>"$log/clock.log" 2>&1 &
(while sleep 3600; do :; done) >/dev/null 2>&1 &
imapfilter -v >>"$log/imapfilter.log" 2>&1 &
echo ready
wait
EOF
script_round() {
    local dir=$tree/r$round-script t0 out line pid
    prepare "$dir"
    start_x "$dir"
    session_env "$dir"
    t0=$(now_us)
    exec {out}< <(exec env -i "${senv[@]}" sh "$tree/xsession.sh")
    read -r -t 30 -u "$out" line || fail "the shell script said nothing"
    t_end=$(now_us)
    [ "$line" = ready ] || fail "the shell script said $line"
    exec {out}<&-
    note ready-script "round $round: $(ms_between "$t0" "$t_end") ms"
    await "the script's xrdb" logged "$dir/cache/xsession/xrdb" merged
    await "the script's imapfilter" logged "$dir/cache/xsession/imapfilter.log" "imapfilter: -v connected"
    await "the script's clock" logged "$dir/cache/xsession/clock.log" " tick"
    SSH_AUTH_SOCK=$dir/xdg/ssh-agent.socket ssh-add -l >/dev/null 2>&1 ||
        [ $? = 1 ] || fail "the script's ssh-agent does not answer"
    # Nothing ends this session but the harness.
    for pid in $(marked "$dir/xdg"); do stop_pid "$pid"; done
    stop_pid "$(cat "$dir/xvfb.pid")"
    wait "$(cat "$dir/xvfb.pid")" 2>/dev/null || true
    rm -f "$dir/xvfb.pid"
}

echo "## the desktop session: $rounds rounds, tend and the shell script interleaved"
# One round of each first, not counted: the first start of every program after a while reads
# it from disk (tend's first ready was seconds off the others), which neither way should carry.
if [ "$quick" = 0 ]; then
    round=0
    tend_round >/dev/null
    script_round >/dev/null
    rm -f "$tree"/ready-tend "$tree"/ready-script "$tree"/logout "$tree"/socket "$tree"/outlived
fi
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then
        tend_round
        script_round
    else
        script_round
        tend_round
    fi
done

# ---- results ---------------------------------------------------------------------------------------
ms() { sed -n 's/^round [0-9]*: \([0-9.]*\) ms.*/\1/p' "$tree/$1"; }
# "median min max" of a column.
stats() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[1], v[NR]}'; }
range() { awk '{printf "%.1f ms [%.1f–%.1f]", $1, $2, $3}' <<<"$1"; }
# Two "median min max": "within noise" when the ranges overlap, else the first's median as a
# multiple of the second's.
compare() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        if (y[2] <= x[3] && x[2] <= y[3]) { print "within noise: the ranges overlap"; exit }
        printf "tend takes %.2f× as long, the ranges apart\n", x[1] / y[1] }'
}
bounds=$(grep -c "upper bound" "$tree/ready-tend" || true)
outlived=0
[ -f "$tree/outlived" ] && outlived=$(wc -l <"$tree/outlived")
mkdir -p "$(dirname "$results")"
{
    results_header "The desktop session: results" bench/session_scenarios.sh
    echo
    echo "Each round runs a private Xvfb, home and XDG tree, the shipped jobs of jobs.d/"
    echo "(services: ${services[*]}) and the standard plugins. In every one"
    echo "of the $rounds rounds each shipped job ran (xresources, keyring-ready and mail-notify set"
    echo "off by what they wait for), tend exited 0 when its X server went, and no process of the"
    echo "session was left."
    if [ "$quick" = 1 ]; then
        echo
        echo "A --quick run: it checks that everything happened, and reports no time."
    else
        tend_stats=$(ms ready-tend | stats)
        script_stats=$(ms ready-script | stats)
        logout_stats=$(ms logout | stats)
        socket_stats=$(ms socket | stats)
        echo
        echo "Medians with [min–max]:"
        echo
        echo "| scenario | result |"
        echo "|---|---|"
        echo "| login to ready with tend: from starting tend to the last service in \`start/running\` ($rounds rounds) | $(range "$tend_stats") |"
        echo "| of which: from starting tend to its control socket there (looked for every millisecond) | $(range "$socket_stats") |"
        echo "| the same programs started one after another by a shell script, until it has started the last (the same rounds, interleaved) | $(range "$script_stats"); $(compare "$tend_stats" "$script_stats") |"
        echo "| logout: from killing the X server to tend's exit with every job process gone ($rounds rounds) | $(range "$logout_stats") |"
        echo
        echo "One round of each ran first and is not counted (the first start of every program reads"
        echo "it from disk). Ready is timed by the harness reading \`tendctl --json monitor\` (each line's time as it is"
        echo "read, microsecond clock, no polling); the monitor connects once the control socket exists"
        echo "(looked for every millisecond). A service already running before the monitor's first line"
        echo "counts at that line's time, an upper bound: the last service was such a one in $bounds of"
        echo "$rounds rounds. The shell script's ready is the time the harness reads"
        echo "the line it prints after starting the last program. Logout ends at \`wait\` returning"
        echo "tend's status; processes of the session that outlived tend: in $outlived of $rounds rounds."
        echo
        echo "| round | tend ready | script ready | logout |"
        echo "|---|---|---|---|"
        paste -d'\t' <(ms ready-tend) <(ms ready-script) <(ms logout) |
            awk -F'\t' '{printf "| %d | %s ms | %s ms | %s ms |\n", NR, $1, $2, $3}'
    fi
} >"$results"
echo
echo "results written to $results"
cat "$results"
