#!/usr/bin/env bash
# Where tend's memory goes with N running jobs. Each job is `start on startup` + `exec sleep`
# with `console none` (as in the side-by-side comparison; once more at 1,000 with `console log`,
# the default, whose capture costs tend two pipes and a log file per job), under an ordinary
# 41-variable session environment (PATH, HOME and 39 variables of about 100 bytes). For each size,
# in a fresh order
# per round, tend is started, the harness waits for N `sleep` children, lets it settle 2 s and
# reads /proc/PID/smaps_rollup: PSS, and how much of it is anonymous (heap, stacks: tend's own)
# or file-backed (the pages of tend's binary and libraries it has touched, shared with every other
# process that maps them). Then, once at N = 1,000 with `console log`, a heap profile: tend runs
# under heaptrack,
# is killed with SIGKILL once settled, and what it still held is printed by allocation site.
# Writes its results (medians with min-max, the command, commit, date and machine) as Markdown to
# RESULTS (default bench/results/memory-profile.md; --quick: BUILD_DIR/memory-profile.md, sizes
# 0 and 100, one round, no heap profile). Official results (the default RESULTS) need a
# committed tree. Every process it starts is gone when it returns.
#   bench/memory_profile.sh BUILD_DIR [--quick] [--results FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$here/bench/lib.sh"
parse_scenario_args "$@"
tend=$build/core/tend
sizes="0 100 1000 5000 1000log"
rounds=3
profile_jobs=1000
mapping_jobs=1000
if [ "$quick" = 1 ]; then
    sizes="0 100 100log"
    rounds=1
    profile_jobs=0
    mapping_jobs=100
fi
[ -x "$tend" ] || { echo "missing $tend: build it first" >&2; exit 1; }
# The heap profiler comes from Debian's packages; installed only when it is missing.
if [ "$profile_jobs" -gt 0 ] && ! command -v heaptrack >/dev/null; then
    echo "memory_profile: installing heaptrack" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends heaptrack >&2
fi
results_and_commit memory-profile.md

work=$(mktemp -d /tmp/tend-bench-XXXXXX)
tree=""
cleanup() {
    if [ -n "$tree" ]; then
        stop_tend "$tree"
    fi
    [ ! -s "$work/orphans" ] || xargs kill -KILL <"$work/orphans" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

session_env=(PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME")
for i in $(seq 1 39); do
    session_env+=("XDG_BENCH_VARIABLE_$i=$(printf '/run/user/1000/bench/%078d' "$i")")
done

# Writes N job files into $tree/jobs, each with `console $2`.
make_jobs() {
    local n=$1 console=$2 i
    rm -rf "$tree"
    mkdir -p "$tree/jobs"
    for i in $(seq 1 "$n"); do
        printf 'start on startup\nconsole %s\nexec sleep 100000\n' "$console" >"$tree/jobs/idle$i.conf"
    done
}

# Waits until tend (pid $1) has $2 sleep children, then 2 s more.
wait_children() {
    local pid=$1 n=$2 have=0
    for _ in $(seq 1 1200); do
        have=$(pgrep -c -P "$pid" sleep || true)
        [ "$have" -ge "$n" ] && break
        sleep 0.1
    done
    [ "$have" -ge "$n" ] || { echo "only $have of $n jobs came up" >&2; exit 1; }
    sleep 2
}

rollup() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/smaps_rollup"; }

# One round at one size (N, or Nlog for `console log`): appends "SIZE PSS ANON FILE" to the
# samples.
measure() {
    local size=$1 n=${1%log} console=none pid
    [ "$n" = "$size" ] || console=log
    tree=$work/size-$size
    make_jobs "$n" "$console"
    env -i "${session_env[@]}" "$tend" --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" \
        --log-dir "$tree/log" --log-file "$tree/tend.log" --log-level warn
    pid=$(cat "$tree/run/tend.pid")
    wait_children "$pid" "$n"
    echo "$size $(rollup "$pid" Pss) $(rollup "$pid" Pss_Anon) $(rollup "$pid" Pss_File)" >>"$work/samples"
    if [ "$size" = "$mapping_jobs" ] && [ ! -f "$work/mappings" ]; then
        # The mappings' shares of PSS, largest first (a path, or [heap], [stack]; anonymous
        # mappings without a name are thread stacks and the allocator's arenas).
        awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "(anonymous)" : $6)}
             /^Pss:/ {pss[name] += $2}
             END {for (m in pss) if (pss[m] > 0) print pss[m], m}' "/proc/$pid/smaps" |
            sort -rn | head -12 >"$work/mappings"
    fi
    stop_tend "$tree"
    rm -rf "$tree"
    tree=""
}

for round in $(seq 1 "$rounds"); do
    # shellcheck disable=SC2086 # the sizes are words
    for size in $(printf "%s\n" $sizes | shuf); do
        echo "round $round: N=$size" >&2
        measure "$size"
    done
done

profile_summary=""
if [ "$profile_jobs" -gt 0 ]; then
    echo "heap profile: N=$profile_jobs" >&2
    tree=$work/profile
    make_jobs "$profile_jobs" log
    (env -i "${session_env[@]}" heaptrack -o "$work/heap" "$tend" --foreground \
        --jobs-dir "$tree/jobs" --runtime-dir "$tree/run" --log-dir "$tree/log" \
        --log-file "$tree/tend.log" --log-level warn >"$work/heaptrack.out" 2>&1 &)
    for _ in $(seq 1 600); do
        [ -s "$tree/run/tend.pid" ] && break
        sleep 0.1
    done
    pid=$(cat "$tree/run/tend.pid")
    wait_children "$pid" "$profile_jobs"
    # SIGKILL: what heaptrack reports as never freed is then exactly what tend held, settled.
    # Its jobs outlive it, so they are killed by pid.
    pgrep -P "$pid" >"$work/orphans" || true
    kill -KILL "$pid"
    for _ in $(seq 1 600); do
        pgrep -f "heaptrack.*$work/heap" >/dev/null || break
        sleep 0.1
    done
    xargs kill -KILL <"$work/orphans" 2>/dev/null || true
    rm -f "$work/orphans"
    rm -rf "$tree"
    tree=""
    heaptrack_print -f "$work"/heap*.zst --print-peaks 0 --print-allocators 0 \
        --print-temporary 0 --print-leaks 1 --peak-limit 15 --sub-peak-limit 1 \
        >"$work/heap.txt" 2>/dev/null
    profile_summary=$(python3 - "$work/heap.txt" "$profile_jobs" <<'EOF'
import re, sys
text = open(sys.argv[1]).read().split("MEMORY LEAKS", 1)[-1]
jobs = int(sys.argv[2])
units = {"B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
def size(s):
    m = re.fullmatch(r"([\d.]+)([BKMG])", s)
    return float(m.group(1)) * units[m.group(2)]
def function(frame):
    frame = frame.strip().replace("(anonymous namespace)", "{anonymous}")
    return frame.split("(", 1)[0]
header = re.compile(r"^(\S+) leaked over (\d+) calls from$")
lines = text.splitlines()
starts = [i for i, line in enumerate(lines) if header.match(line)]
rows = []
for k, i in enumerate(starts):
    block = lines[i + 1:starts[k + 1] if k + 1 < len(starts) else len(lines)]
    m = header.match(lines[i])
    site = function(block[0]) if block else "?"
    if not site.startswith("tend::"):
        # A frame in a library (or one without a symbol): name the first of tend's callers.
        caller = next((function(f) for f in block[1:] if f.strip().startswith("tend::")), None)
        if site.startswith("0x"):
            site = "(in " + block[1].strip().rsplit("/", 1)[-1] + ")" if len(block) > 1 else site
        if caller:
            site += " from " + caller
    rows.append((size(m.group(1)), int(m.group(2)), site))
total = re.search(r"total memory leaked: (\S+)", text)
print("| allocation site (innermost frame) | bytes held | allocations | bytes per job |")
print("|---|--:|--:|--:|")
for b, calls, site in rows:
    print(f"| `{site}` | {b / 1024:,.1f} KiB | {calls:,} | {b / jobs:,.0f} |")
if total:
    t = size(total.group(1))
    print(f"\nEverything tend's heap held: {t / 1024:,.0f} KiB, {t / jobs:,.0f} bytes per job.")
EOF
)
fi

python3 - "$work/samples" "$work/mappings" "$mapping_jobs" >"$work/tables" <<'EOF'
import statistics, sys
samples = {}
for line in open(sys.argv[1]):
    size, pss, anon, file = line.split()
    samples.setdefault(size, []).append((int(pss), int(anon), int(file)))
def fmt(values):
    return f"{statistics.median(values):,.0f} [{min(values):,}–{max(values):,}]"
base = statistics.median(p for p, _, _ in samples.get("0", [(0, 0, 0)]))
print("| jobs | console | PSS (KiB) | anonymous | file-backed | KiB per job above N = 0 |")
print("|--:|---|---|---|---|--:|")
for size in sorted(samples, key=lambda s: (s.endswith("log"), int(s.removesuffix("log")))):
    rows = samples[size]
    n = int(size.removesuffix("log"))
    pss = [r[0] for r in rows]
    per_job = "" if n == 0 else f"{(statistics.median(pss) - base) / n:.2f}"
    console = "log" if size.endswith("log") else "none"
    print(f"| {n:,} | {console} | {fmt(pss)} | {fmt([r[1] for r in rows])} | {fmt([r[2] for r in rows])} | {per_job} |")
try:
    mappings = open(sys.argv[2]).read().split("\n")
except OSError:
    mappings = []
if any(mappings):
    print(f"\nThe largest shares of PSS at N = {int(sys.argv[3]):,} (first round), by mapping:\n")
    print("| mapping | PSS (KiB) |")
    print("|---|--:|")
    for line in filter(None, mappings):
        kib, name = line.split(" ", 1)
        name = name.rsplit("/", 1)[-1] if name.startswith("/") else name
        print(f"| `{name}` | {int(kib):,} |")
EOF

{
    results_header "Where tend's memory goes" bench/memory_profile.sh
    echo
    binary_identity "$tend"
    echo
    echo "$rounds round(s), sizes in a fresh order per round; median [min–max] over the rounds."
    echo "Jobs: \`start on startup\`, \`exec sleep\`; a 41-variable environment."
    echo
    cat "$work/tables"
    if [ -n "$profile_summary" ]; then
        echo
        echo "Heap profile at N = $profile_jobs, \`console log\` (heaptrack; what tend held once settled):"
        echo
        echo "$profile_summary"
    fi
} >"$results"
echo "wrote $results" >&2
cat "$results"
