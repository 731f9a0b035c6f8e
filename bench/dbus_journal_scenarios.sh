#!/usr/bin/env bash
# Whole-process scenarios for the D-Bus bridge and the journal (issue "Plugins, part 2"), each
# against a real tend loading the built plugins from a private plugins.d, a real private
# dbus-daemon and, as root, a real private systemd-journald:
#   1. dbus-bridge: from a D-Bus signal to the start of the job waiting for it, with 1,000 jobs
#      loaded, each waiting for a signal of its own (`start on dbus SIGNAL=Ping ... ARG0=jobN`),
#      timed by bench/dbus_latency.cpp from emitting the signal to tend's JobChanged saying the
#      job runs, and to the job's own process writing the time it began (target median < 5 ms);
#   2. dbus-bridge: org.tend.Manager1.Status on an open bus connection against `status` on an
#      open control socket connection, rounds interleaved (target: D-Bus median < 2 ms and
#      within 2x of the socket);
#   3. journal-logger: lines per second from one job (100-byte lines) into journald through tend,
#      against the same program piped into systemd-cat and against the floor of the protocol the
#      plugin speaks (bench/journal_send.cpp: the same entries, one sd_journal_sendv() each),
#      rounds interleaved; a line counts when it is in the journal (read back with journalctl),
#      and the time runs until the last one is there (journald's own receive time of the last
#      entry). Needs root: journald runs in a
#      mount namespace of its own, as tests/support/journald_fixture.hpp runs it; without root
#      the results say it was skipped and why. Three more runs each write 10 MB at once, more
#      than tend holds for its output sinks, and record how many of their lines reach the
#      journal;
#   4. all five standard plugins loaded and idle against none: the round trip of an `emit` of an
#      event that 1,000 classes check and none matches, rounds interleaved between two tends
#      running side by side (target: under 5% more), then every tend thread's context switches
#      over 10 s of idle (expected 0), and over 65 s, longer than any plugin timer's period.
# Writes its results (medians with min-max, the command, commit, date and machine) as Markdown to
# RESULTS (default bench/results/plugin-scenarios-2.md; --quick: BUILD_DIR/plugin-scenarios-2.md),
# and every process it starts is gone when it returns: as root the whole run is in a mount and
# pid namespace of its own, which ends whatever is left with it. --quick is a smoke run with tiny
# counts that checks only that everything happened (each signal started its job, each line
# arrived), never a time.
#   bench/dbus_journal_scenarios.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail

# As root, into a mount namespace (a private /run/systemd for journald) and a pid namespace: this
# script is its first process, and every process still in it when the script ends goes too.
journal_skip=""
if [ -z "${TEND_BENCH_IN_NAMESPACE:-}" ]; then
    if [ "$(id -u)" != 0 ]; then
        journal_skip="needs root (a mount namespace over /run/systemd and /var/log/journal)"
    elif unshare --mount --propagation private --pid --fork --mount-proc true 2>/dev/null; then
        TEND_BENCH_IN_NAMESPACE=1 exec unshare --mount --propagation private --pid --fork \
            --mount-proc "$BASH" "${BASH_SOURCE[0]}" "$@"
    else
        journal_skip="unshare of a mount and pid namespace failed as root"
    fi
fi
unset TEND_BENCH_IN_NAMESPACE

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
tendctl=$build/core/tendctl
plugins=$build/plugins.d
driver=$build/bench/tend_dbus_latency
stamp=$build/bench/tend_file_event_latency  # its `stamp` mode: the jobs' program
roundtrip=$build/bench/tend_control_roundtrip
journal_send=$build/bench/tend_journal_send
jobs=1000
triggers=200
status_rounds=10
status_n=1000
# 5 MB: less than tend holds for output sinks (8 MiB), so that every line can reach the journal.
journal_lines=50000
journal_rounds=5
burst_lines=100000
burst_runs=3
emit_rounds=9
emit_n=2000
idle_seconds=10
long_idle_seconds=65
if [ "$quick" = 1 ]; then
    jobs=50
    triggers=20
    status_rounds=2
    status_n=50
    journal_lines=2000
    journal_rounds=1
    burst_runs=0
    emit_rounds=2
    emit_n=100
    idle_seconds=1
    long_idle_seconds=0
fi
[ -n "$results" ] || results=$([ "$quick" = 1 ] && echo "$build/plugin-scenarios-2.md" ||
    echo "$here/bench/results/plugin-scenarios-2.md")
standard_plugins=(env-manager file-bridge journal-logger logrotate dbus-bridge)
for file in "$tend" "$tendctl" "$driver" "$stamp" "$roundtrip" "$journal_send"; do
    [ -x "$file" ] || { echo "missing $file: build it first" >&2; exit 1; }
done
for plugin in "${standard_plugins[@]}"; do
    [ -f "$plugins/$plugin.so" ] || { echo "missing $plugins/$plugin.so: build it first" >&2; exit 1; }
done

tree=$(mktemp -d /tmp/tend-bench-dbus-journal-XXXXXX)
bus_pid=""
journald_pid=""
journal_mounted=0
cleanup() {
    for run in "$tree"/t*; do
        [ -d "$run" ] && stop_tend "$run"
    done
    if [ -n "$bus_pid" ]; then
        kill "$bus_pid" 2>/dev/null || true
        wait "$bus_pid" 2>/dev/null || true
    fi
    if [ -n "$journald_pid" ]; then
        kill "$journald_pid" 2>/dev/null || true
        wait "$journald_pid" 2>/dev/null || true
    fi
    if [ "$journal_mounted" = 1 ]; then
        umount /var/log/journal 2>/dev/null || true
        umount /run/systemd 2>/dev/null || true
    fi
    rm -rf "$tree"
}
trap cleanup EXIT
# The first process of a pid namespace gets no signal it does not handle.
trap 'exit 130' INT TERM HUP

# A fresh tend in $tree/$1 with the plugins named after it, the session bus's address in its
# environment; jobs are written to $tree/$1/jobs before.
start_tend() {
    local run=$tree/$1
    shift
    mkdir -p "$run/jobs" "$run/plugins" "$run/config"
    chmod 0755 "$run/plugins"
    for plugin in "$@"; do
        cp "$plugins/$plugin.so" "$run/plugins/"
        chmod 0644 "$run/plugins/$plugin.so"
    done
    DBUS_SESSION_BUS_ADDRESS=$bus_address XDG_CONFIG_HOME=$run/config \
        "$tend" --jobs-dir "$run/jobs" --runtime-dir "$run/run" --log-dir "$run/log" \
        --log-file "$run/tend.log" --log-level warn --plugins-dir "$run/plugins"
}
ctl() {
    local run=$tree/$1
    shift
    "$tendctl" --socket "$run/run/control" "$@"
}
# Waits up to 60 s for the command to succeed; fails the run with $1 otherwise.
await() {
    local what=$1
    shift
    for _ in $(seq 1 600); do
        "$@" && return 0
        sleep 0.1
    done
    echo "timed out waiting for $what" >&2
    exit 1
}
# tend in $1 has loaded at least $2 jobs.
loaded() { [ "$(ctl "$1" list 2>/dev/null | wc -l)" -ge "$2" ]; }
# dbus-bridge of tend $1 is connected to the session bus with $2 match rules there, all of them
# installed (the system bus, which this machine may not have, is left out).
bridged() {
    local said
    said=$(ctl "$1" dbus-bridge 2>/dev/null | sed '/^  control API/,$d') || return 1
    grep -q "session bus: connected to" <<<"$said" && grep -q "match rules ($2):" <<<"$said" &&
        ! grep -q "(not installed)" <<<"$said"
}
now_ns() { date +%s%N; }
# Median, min and max of a column of numbers: "median [min–max]".
summary() {
    sort -g | awk -v f="${1:-%.3f}" '{v[NR] = $1} END {
        printf f " [" f "–" f "]", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
# Two "median min max": "within noise" when the ranges overlap, else the second's median as a
# change from the first's (or, with a third argument, as a multiple of it).
compare() {
    awk -v a="$1" -v b="$2" -v times="${3:-}" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        if (y[2] <= x[3] && x[2] <= y[3]) { print "within noise: the ranges overlap"; exit }
        if (times != "") { printf "%.2f×, the ranges apart\n", y[1] / x[1]; exit }
        printf "%+.1f%%, the ranges apart\n", (y[1] / x[1] - 1) * 100 }'
}
# "median min max" of a column.
stats() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[1], v[NR]}'; }

# ---- a private session bus ----------------------------------------------------------------------
# Its own configuration (nothing activatable from the machine) with the limits of Debian's
# session.conf: the daemon's built-in default of 512 match rules per connection would refuse
# most of the rules of 1,000 jobs, which a real session bus (50,000) takes.
mkdir -p "$tree/bus"
cat >"$tree/bus/bus.conf" <<EOF
<busconfig>
  <type>session</type><keep_umask/>
  <listen>unix:path=$tree/bus/socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
  <limit name="max_names_per_connection">50000</limit>
  <limit name="max_match_rules_per_connection">50000</limit>
  <limit name="max_replies_per_connection">50000</limit>
</busconfig>
EOF
dbus-daemon --config-file="$tree/bus/bus.conf" --nofork --nopidfile >/dev/null 2>&1 &
bus_pid=$!
bus_address=unix:path=$tree/bus/socket
await "the private dbus-daemon" test -S "$tree/bus/socket"

# ---- 1. D-Bus signal -> job start ----------------------------------------------------------------
echo "## D-Bus signal -> job start, $jobs jobs loaded, $triggers triggers"
mkdir -p "$tree/t1/jobs" "$tree/signals"
for i in $(seq 0 $((jobs - 1))); do
    printf 'start on dbus SIGNAL=Ping INTERFACE=org.tend.Bench ARG0=job%d\ntask\nconsole none\nexec %s stamp %s/started-%d\n' \
        "$i" "$stamp" "$tree/signals" "$i" >"$tree/t1/jobs/ping$i.conf"
done
printf 'start on startup\nconsole none\nexec sleep 1000000\n' >"$tree/t1/jobs/target.conf"
start_tend t1 dbus-bridge
await "$jobs jobs in tend" loaded t1 $((jobs + 1))
await "dbus-bridge's $jobs match rules" bridged t1 "$jobs"
"$driver" signal "$bus_address" "$tree/signals" "$jobs" "$triggers" "$stamp" | tee "$tree/signal"
grep -q "^every one of $triggers signals started its job" "$tree/signal"

# ---- 2. Status over D-Bus and over the control socket -------------------------------------------
echo
echo "## status: D-Bus against the control socket, $status_rounds interleaved rounds of $status_n"
await "the target job running" sh -c "'$tendctl' --socket '$tree/t1/run/control' status target | grep -q start/running"
"$driver" status "$bus_address" "$tree/t1/run/control" target "$status_rounds" "$status_n" |
    tee "$tree/status"
stop_tend "$tree/t1"

# ---- 3. journal throughput -----------------------------------------------------------------------
# A private journald, as tests/support/journald_fixture.hpp starts one: a tmpfs over
# /run/systemd and a directory of the run's over /var/log/journal, both only in this mount
# namespace (it mounts over directories that exist and creates none outside its own tree).
start_journald() {
    [ -z "$journal_skip" ] || return 0
    if [ ! -d /run/systemd ] || [ ! -d /var/log/journal ] || [ ! -x /lib/systemd/systemd-journald ]; then
        journal_skip="no systemd-journald, /run/systemd or /var/log/journal on this machine"
        return 0
    fi
    mkdir -p "$tree/journal"
    if ! mount -t tmpfs -o mode=755 tmpfs /run/systemd; then
        journal_skip="cannot mount a tmpfs over /run/systemd"
        return 0
    fi
    journal_mounted=1
    if ! mount --bind "$tree/journal" /var/log/journal; then
        journal_skip="cannot bind a directory over /var/log/journal"
        return 0
    fi
    mkdir -p /run/systemd/journal /run/systemd/journald.conf.d
    touch /run/systemd/journal/flushed
    printf '[Journal]\nStorage=persistent\nReadKMsg=no\nRateLimitBurst=0\nForwardToSyslog=no\nForwardToWall=no\nForwardToConsole=no\nForwardToKMsg=no\nAudit=no\n' \
        >/run/systemd/journald.conf.d/bench.conf
    # No argument: journald takes any argv[1] as the name of a journal namespace.
    /lib/systemd/systemd-journald >"$tree/journald.out" 2>&1 &
    journald_pid=$!
    for _ in $(seq 1 200); do
        [ -S /run/systemd/journal/socket ] && return 0
        kill -0 "$journald_pid" 2>/dev/null || break
        sleep 0.1
    done
    journal_skip="systemd-journald did not start: $(tail -1 "$tree/journald.out")"
}
# Waits until journald has used no CPU for 0.2 s: it has taken in what was sent to it.
journald_settled() {
    local before now
    before=$(awk '{print $14 + $15}' "/proc/$journald_pid/stat")
    for _ in $(seq 1 600); do
        sleep 0.2
        now=$(awk '{print $14 + $15}' "/proc/$journald_pid/stat")
        [ "$now" = "$before" ] && return 0
        before=$now
    done
}
# The entries of SYSLOG_IDENTIFIER=$1 in the journal that are the line, whole.
arrived() {
    journalctl --directory "$tree/journal" --no-pager -q -o cat "SYSLOG_IDENTIFIER=$1" |
        grep -cx "$line" || true
}
# journald's receive time of the last entry of SYSLOG_IDENTIFIER=$1, in ns.
last_arrival_ns() {
    journalctl --directory "$tree/journal" --no-pager -q -o export -n 1 "SYSLOG_IDENTIFIER=$1" |
        sed -n 's/^__REALTIME_TIMESTAMP=\([0-9]*\)$/\1000/p'
}
# Lines per second from $2 (ns) to the last arrival of $1, once all $journal_lines are there.
journal_rate() {
    local id=$1 t0=$2 got=0 t1
    for _ in $(seq 1 20); do
        journald_settled
        got=$(arrived "$id")
        [ "$got" = "$journal_lines" ] && break
        sleep 0.5
    done
    if [ "$got" != "$journal_lines" ]; then
        echo "$id: $got of $journal_lines lines in the journal" >&2
        grep -h "fell behind\|journal" "$tree"/tj/tend.log >&2 || true
        exit 1
    fi
    t1=$(last_arrival_ns "$id")
    awk -v n="$journal_lines" -v t="$((t1 - t0))" 'BEGIN {printf "%.0f", n / (t / 1e9)}'
}
# journal-logger's count of lines sent and not sent: "sent not-sent".
journal_counts() {
    ctl tj journal-logger | awk -F': ' '/^lines sent:/ {s = $2} /^lines not sent:/ {n = $2}
        END {print s + 0, n + 0}'
}
# Waits until journal-logger's counts have not moved for 0.5 s: it has sent what it was given.
sender_settled() {
    local before now
    before=$(journal_counts)
    for _ in $(seq 1 600); do
        sleep 0.5
        now=$(journal_counts)
        [ "$now" = "$before" ] && return 0
        before=$now
    done
}

echo
line=$(printf 'x%.0s' $(seq 1 99))  # with its newline, 100 bytes
start_journald
if [ -n "$journal_skip" ]; then
    echo "## journal throughput: skipped, $journal_skip"
else
    echo "## journal throughput: $journal_lines lines of 100 bytes, $journal_rounds interleaved rounds"
    mkdir -p "$tree/tj/jobs"
    for round in $(seq 1 "$journal_rounds"); do
        printf 'task\nconsole log\nexec sh -c %s\n' "'yes $line | head -n $journal_lines'" \
            >"$tree/tj/jobs/tend-writer$round.conf"
    done
    for burst in $(seq 1 "$burst_runs"); do
        printf 'task\nconsole log\nexec sh -c %s\n' "'yes $line | head -n $burst_lines'" \
            >"$tree/tj/jobs/tend-burst$burst.conf"
    done
    start_tend tj journal-logger
    await "the writer jobs" loaded tj $((journal_rounds + burst_runs))
    for round in $(seq 1 "$journal_rounds"); do
        # Each way first in turn.
        ways=(tend cat native tend cat)
        for way in "${ways[@]:$(((round - 1) % 3)):3}"; do
            if [ "$way" = tend ]; then
                t0=$(now_ns)
                ctl tj start "tend-writer$round" >/dev/null  # a task: back when it has ended
                sender_settled
                rate=$(journal_rate "tend-writer$round" "$t0")
                echo "tend round $round: $rate lines/s, all $journal_lines lines in the journal" |
                    tee -a "$tree/journal-tend"
            elif [ "$way" = cat ]; then
                t0=$(now_ns)
                sh -c "yes $line | head -n $journal_lines" | systemd-cat -t "cat-writer$round"
                rate=$(journal_rate "cat-writer$round" "$t0")
                echo "systemd-cat round $round: $rate lines/s, all $journal_lines lines in the journal" |
                    tee -a "$tree/journal-cat"
            else
                t0=$(now_ns)
                "$journal_send" "native-writer$round" "$journal_lines"
                rate=$(journal_rate "native-writer$round" "$t0")
                echo "native protocol round $round: $rate lines/s, all $journal_lines lines in the journal" |
                    tee -a "$tree/journal-native"
            fi
        done
    done
    read -r _ not_sent <<<"$(journal_counts)"
    [ "$not_sent" = 0 ] || { echo "journal-logger did not send $not_sent lines" >&2; exit 1; }
    # One job writing more at once than tend holds for its output sinks (8 MiB): what reaches the
    # journal, recorded and not required.
    for burst in $(seq 1 "$burst_runs"); do
        ctl tj start "tend-burst$burst" >/dev/null
        sender_settled
        journald_settled
        echo "burst $burst of $burst_lines lines: $(arrived "tend-burst$burst") in the journal" |
            tee -a "$tree/journal-burst"
    done
    stop_tend "$tree/tj"
fi

# ---- 4. five idle standard plugins against none --------------------------------------------------
echo
echo "## emit of an event $jobs classes check and none matches: no plugins against the five standard plugins"
mkdir -p "$tree/t4-none/jobs" "$tree/t4-all/jobs" "$tree/watched"
# Every class checks `bench-event ID=none` (a glob is not indexed) and none matches; a third of
# them also wait for a file of their own (file-bridge watches it) and a third for a D-Bus signal
# of their own (dbus-bridge asks the bus for it).
dbus_rules=0
for i in $(seq 0 $((jobs - 1))); do
    case $((i % 3)) in
    0) also="" ;;
    1) also=" or file FILE=$tree/watched/f$i EVENT=create" ;;
    2) also=" or dbus SIGNAL=Idle INTERFACE=org.tend.Bench ARG0=idle$i"; dbus_rules=$((dbus_rules + 1)) ;;
    esac
    printf 'start on bench-event ID=id%d-*%s\nconsole log\nexec sleep 1000000\n' "$i" "$also" \
        >"$tree/t4-none/jobs/idle$i.conf"
done
cp "$tree/t4-none/jobs/"*.conf "$tree/t4-all/jobs/"
start_tend t4-none
start_tend t4-all "${standard_plugins[@]}"
await "$jobs jobs in the tend without plugins" loaded t4-none "$jobs"
await "$jobs jobs in the tend with plugins" loaded t4-all "$jobs"
await "dbus-bridge's $dbus_rules match rules" bridged t4-all "$dbus_rules"
ctl t4-all plugins | tee "$tree/plugins"
for plugin in "${standard_plugins[@]}"; do
    grep -q "^$plugin " "$tree/plugins" || { echo "$plugin is not loaded" >&2; exit 1; }
done
for round in $(seq 1 "$emit_rounds"); do
    for run in $( ((round % 2)) && echo "t4-none t4-all" || echo "t4-all t4-none"); do
        "$roundtrip" "$tree/$run/run/control" "$emit_n" emit bench-event ID=none |
            sed "s/^/$run round $round: /" | tee -a "$tree/emit-$run"
    done
done
# Nothing may have started: the event matched no class.
[ "$(ctl t4-all list | grep -c start/ || true)" = 0 ] || { echo "a job started" >&2; exit 1; }

echo
# tid, name and voluntary + nonvoluntary context switches of each of tend $1's threads (the
# loop's thread named "loop").
switches() {
    local pid task name
    pid=$(cat "$tree/$1/run/tend.pid")
    for task in /proc/"$pid"/task/*; do
        name=$(tr ' ' _ <"$task/comm")
        [ "${task##*/}" = "$pid" ] && name=loop
        printf '%s %s %s\n' "${task##*/}" "$name" \
            "$(awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n}' "$task/status")"
    done
}
# "total over N threads[; name (tid): n, ...]" between the snapshots $1-before and $1-after.
woken() {
    awk 'FNR == NR {before[$1] = $3; next} {
        d = $3 - before[$1]; total += d; threads++
        if (d > 0) woke = woke (woke == "" ? "" : ", ") $2 " (" $1 "): " d
    } END {
        printf "%d over %d threads%s", total, threads, woke == "" ? "" : "; " woke
    }' "$tree/$1-before" "$tree/$1-after"
}
# Both tends over the same $1 seconds, into $tree/idle-$1-all and $tree/idle-$1-none.
idle_window() {
    echo
    echo "## idle: every tend thread's context switches over $1 s"
    switches t4-all >"$tree/idle-$1-all-before"
    switches t4-none >"$tree/idle-$1-none-before"
    sleep "$1"
    switches t4-all >"$tree/idle-$1-all-after"
    switches t4-none >"$tree/idle-$1-none-after"
    echo "five plugins: $(woken "idle-$1-all")" | tee "$tree/idle-$1-all"
    echo "no plugins: $(woken "idle-$1-none")" | tee "$tree/idle-$1-none"
}
sleep 2  # what the emits set off has settled
idle_window "$idle_seconds"
# Longer than the longest period of a plugin's timer (logrotate's check-interval, 60 s by
# default), so that a periodic wake-up cannot fall between the windows.
if [ "$long_idle_seconds" -gt 0 ]; then
    idle_window "$long_idle_seconds"
fi
stop_tend "$tree/t4-all"
stop_tend "$tree/t4-none"

# ---- results ---------------------------------------------------------------------------------------
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
if git -C "$here" status --porcelain --untracked-files=no 2>/dev/null |
    grep -v " bench/results/plugin-scenarios-2.md$" | grep -q .; then
    dirty=" (with uncommitted changes)"
fi
status_bus=$(grep '^dbus Status' "$tree/status")
status_socket=$(grep '^control socket status' "$tree/status")
status_ping=$(grep '^dbus Peer.Ping' "$tree/status")
emit_none=$(field median <"$tree/emit-t4-none" | stats)
emit_all=$(field median <"$tree/emit-t4-all" | stats)
bus_stats="$(field median <<<"$status_bus") $(field min <<<"$status_bus") $(field max <<<"$status_bus")"
socket_stats="$(field median <<<"$status_socket") $(field min <<<"$status_socket") $(field max <<<"$status_socket")"
ping_stats="$(field median <<<"$status_ping") $(field min <<<"$status_ping") $(field max <<<"$status_ping")"
range() { awk '{printf "%.3f [%.3f–%.3f]", $1, $2, $3}' <<<"$1"; }
mkdir -p "$(dirname "$results")"
{
    echo "# D-Bus bridge and journal scenarios: results"
    echo
    echo "Written by \`bench/dbus_journal_scenarios.sh $build_arg$args_text\`"
    echo "at commit $commit$dirty on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores,"
    echo "$(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' /etc/os-release). Medians with [min–max]."
    echo
    echo "| scenario | result |"
    echo "|---|---|"
    echo "| D-Bus signal → job start, $jobs jobs loaded, each waiting for its own ARG0 ($triggers triggers) | median $(sed -n 2p "$tree/signal" | field median) ms [$(sed -n 2p "$tree/signal" | field min)–$(sed -n 2p "$tree/signal" | field max)], p90 $(sed -n 2p "$tree/signal" | field p90) ms |"
    echo "| floor: the harness spawning the job's program itself, once beside each trigger ($triggers) | median $(sed -n 3p "$tree/signal" | field median) ms [$(sed -n 3p "$tree/signal" | field min)–$(sed -n 3p "$tree/signal" | field max)] |"
    echo "| D-Bus signal → tend says the job is running (its JobChanged signal, back through the bus), the same triggers | median $(sed -n 4p "$tree/signal" | field median) ms [$(sed -n 4p "$tree/signal" | field min)–$(sed -n 4p "$tree/signal" | field max)], p90 $(sed -n 4p "$tree/signal" | field p90) ms |"
    echo "| \`Status\` of org.tend.Manager1 on an open bus connection ($status_rounds rounds of $status_n; the rounds' medians) | $(range "$bus_stats") ms; slowest call $(field slowest <<<"$status_bus") ms |"
    echo "| \`status\` on an open control socket connection (the same rounds, interleaved) | $(range "$socket_stats") ms; slowest call $(field slowest <<<"$status_socket") ms; D-Bus \`Status\` against it: $(compare "$socket_stats" "$bus_stats" times) |"
    echo "| org.freedesktop.DBus.Peer.Ping of tend's name, answered by sd-bus in tend without a command (the same rounds) | $(range "$ping_stats") ms; slowest call $(field slowest <<<"$status_ping") ms |"
    if [ -n "$journal_skip" ]; then
        echo "| journal: one job's 100-byte lines through tend and journal-logger into journald, against systemd-cat | skipped: $journal_skip |"
    else
        echo "| journal: one job's $journal_lines lines of 100 bytes through tend and journal-logger into journald, until the last is in the journal ($journal_rounds rounds) | $(sed -n 's/.*: \([0-9]*\) lines\/s.*/\1/p' "$tree/journal-tend" | summary %.0f) lines/s; every line arrived |"
        echo "| the same program piped into systemd-cat (the same rounds, interleaved) | $(sed -n 's/.*: \([0-9]*\) lines\/s.*/\1/p' "$tree/journal-cat" | summary %.0f) lines/s; every line arrived |"
        echo "| the floor of the protocol journal-logger speaks: the same entries sent by one thread, one \`sd_journal_sendv()\` each (the same rounds) | $(sed -n 's/.*: \([0-9]*\) lines\/s.*/\1/p' "$tree/journal-native" | summary %.0f) lines/s; every line arrived |"
        if [ "$burst_runs" -gt 0 ]; then
            echo "| one job's $burst_lines lines (10 MB) at once through tend and journal-logger ($burst_runs runs): lines in the journal | $(sed -n 's/^burst [0-9]* of [0-9]* lines: \([0-9]*\) in the journal$/\1/p' "$tree/journal-burst" | paste -sd/ | sed 's|/| / |g') |"
        fi
    fi
    echo "| \`emit\` round trip of an event $jobs classes check and none matches, no plugins ($emit_rounds rounds of $emit_n; the rounds' medians) | $(range "$emit_none") ms |"
    echo "| the same, the five standard plugins loaded and idle$([ -n "$journal_skip" ] && echo " (journal-logger without a journal)") | $(range "$emit_all") ms; $(compare "$emit_none" "$emit_all") |"
    for window in "$idle_seconds" "$long_idle_seconds"; do
        [ "$window" -gt 0 ] || continue
        echo "| idle $window s, five plugins: context switches of tend's threads | $(sed 's/^five plugins: //' "$tree/idle-$window-all") |"
        echo "| idle $window s, no plugins: context switches of tend's threads | $(sed 's/^no plugins: //' "$tree/idle-$window-none") |"
    done
} >"$results"
echo
echo "results written to $results"
cat "$results"
