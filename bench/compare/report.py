#!/usr/bin/env python3
"""Summarises a bench/compare run: medians with min/max over the repetitions, and ratios to the
floor and to the best peer. Prints the tables and writes them, with the run's command, date and
machine, as Markdown.

    report.py RESULTS.tsv META.tsv OUT.md

RESULTS.tsv: "scenario manager n metric value rep" lines (bench/compare/scenario.sh).
META.tsv: "key value" lines, "note manager text" for the adapters (scripts/bench-compare).

Sections 1-7 show only the lifecycle sizes every manager ran at (META's "sizes"); section 8
(scale) shows every size tend ran at, the larger ones run by tend and the floor alone.
"""
import math
import statistics
import sys
from collections import defaultdict

MANAGERS = ["floor", "tend", "runit", "s6", "daemontools", "supervisord"]
PEERS = ["runit", "s6", "daemontools", "supervisord"]


def load(path):
    data = defaultdict(list)  # (scenario, manager, n, metric) -> [value, ...]
    with open(path) as f:
        for line in f:
            scenario, manager, n, metric, value, _rep = line.rstrip("\n").split("\t")
            data[(scenario, manager, int(n), metric)].append(value)
    return data


def load_meta(path):
    meta, notes, versions = {}, {}, []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "note":
                notes[parts[1]] = parts[2]
            elif parts[0] == "version":
                versions.append(parts[1])
            else:
                meta[parts[0]] = parts[1]
    return meta, notes, versions


def num(values):
    out = []
    for v in values:
        try:
            out.append(float(v))
        except ValueError:
            pass
    return out


def fmt(x):
    if x is None:
        return "—"
    if abs(x) >= 100 or x == int(x):
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def ratio(x, ref):
    if x is None or ref is None or ref == 0:
        return "—"
    q = x / ref
    if q >= 100:
        return f"{q:,.0f}×"
    if q >= 10:
        return f"{q:.1f}×"
    if q >= 0.1:
        return f"{q:.2f}×"
    return f"{q:.2g}×"


class Table:
    def __init__(self, header):
        self.header = header
        self.rows = []

    def add(self, row):
        self.rows.append([str(c) for c in row])

    def markdown(self):
        lines = ["| " + " | ".join(self.header) + " |",
                 "|" + "|".join("---" if i == 0 else "--:" for i in range(len(self.header))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)


class Report:
    def __init__(self, data, shared=None):
        self.data = data
        self.present = [m for m in MANAGERS if any(k[1] == m for k in data)]
        self.out = []
        # the sizes the comparison tables show; None: those every present manager ran at
        self.shared = shared

    def values(self, scenario, manager, n, metric):
        return num(self.data.get((scenario, manager, n, metric), []))

    def failed(self, scenario, manager, n):
        return bool(self.data.get((scenario, manager, n, "failed")))

    def sizes(self, scenario, manager=None):
        return sorted({k[2] for k in self.data
                       if k[0] == scenario and (manager is None or k[1] == manager)})

    # The sizes a comparison table shows: not the scale runs, which only tend and the floor
    # make and which would leave the peers' cells empty.
    def shared_sizes(self, scenario):
        sizes = self.sizes(scenario)
        if self.shared is not None:
            return [n for n in sizes if n in self.shared]
        return [n for n in sizes if all(n in self.sizes(scenario, m) for m in self.present)]

    def median(self, scenario, manager, n, metric):
        v = self.values(scenario, manager, n, metric)
        return statistics.median(v) if v else None

    def cell(self, scenario, manager, n, metric, censored=False):
        if self.failed(scenario, manager, n) and not self.values(scenario, manager, n, metric):
            return "failed"
        v = self.values(scenario, manager, n, metric)
        if not v:
            return "—"
        text = fmt(statistics.median(v))
        if len(v) > 1:
            text += f" [{fmt(min(v))}–{fmt(max(v))}]"
        return ("≥ " + text) if censored else text

    def best_peer(self, scenario, n, metric, exclude=()):
        medians = [(self.median(scenario, p, n, metric), p) for p in PEERS
                   if p in self.present and p not in exclude]
        medians = [(m, p) for m, p in medians if m is not None]
        return min(medians) if medians else (None, None)

    def heading(self, text, level=2):
        self.out += ["", "#" * level + " " + text, ""]

    def para(self, text):
        self.out += [text, ""]

    def table(self, t):
        self.out += [t.markdown(), ""]

    # One table per metric: rows are managers, columns each N with its two ratios. Lower is
    # better. censor(manager, n) -> note: the value is a cap, not a measurement.
    def metric_table(self, scenario, metric, unit, ratios=True, censor=None):
        sizes = self.shared_sizes(scenario)
        header = ["manager"]
        for n in sizes:
            header += [f"N={n} ({unit})"] + (["× floor", "× best peer"] if ratios else [])
        t = Table(header)
        notes = []
        for m in self.present:
            row = [m]
            for n in sizes:
                note = censor(m, n) if censor else None
                if note:
                    notes.append(f"{m} at N={n}: {note}")
                row.append(self.cell(scenario, m, n, metric, censored=bool(note)))
                if ratios:
                    excluded = [p for p in PEERS if censor and censor(p, n)]
                    best, who = self.best_peer(scenario, n, metric, excluded)
                    x = None if note else self.median(scenario, m, n, metric)
                    row += [ratio(x, self.median(scenario, "floor", n, metric)),
                            ratio(x, best) + (f" ({who})" if m == "tend" and best else "")]
            t.add(row)
        self.table(t)
        for note in notes:
            self.para(f"- {note}")


# Growth of tend's and the floor's lifecycle costs with N, from the shared sizes up to the scale
# runs. For each step from one size A to the next B, the growth per 10× of N:
# (value(B) / value(A)) ** (1 / log10(B / A)): 1× is flat, 10× linear, 100× quadratic. Growth
# is at most linear when value / N does not rise (beyond 10% noise) at any step.
def scale_table(r, meta, censor):
    who = "tend" if "tend" in r.present else "floor"
    sizes = r.sizes("lifecycle", who)
    managers = [m for m in ("tend", "floor") if m in r.present]
    if len(sizes) < 2 or not managers:
        r.para(f"Not measured: {who} ran at fewer than two sizes.")
        return
    shared = r.shared_sizes("lifecycle")
    alone = [f"N={n:,}" for n in sizes if n not in shared]
    r.para("How the lifecycle costs (sections 1-3 and 5) grow with N, at every N tend ran at"
           + (f" ({' and '.join(alone)}: tend and the floor only, the peers would take too long)"
              if alone else "") +
           ". *Per 10× N*: the step's growth scaled to a tenfold N, "
           "(value(B) / value(A))^(1 / log10(B / A)); 1× is flat, 10× linear, 100× "
           "quadratic. *At most linear*: value / N does not rise by more than 10% at any step; "
           "where it does, the step and its rise in value / N are named. Stop-all includes the "
           f"{meta.get('kill_timeout_s')} s kill timeout (the services ignore SIGTERM), so it "
           "starts from a constant.")
    metrics = [("cold_start_ms", "cold start (ms)"),
               ("all_pss_kb", "manager PSS, summed over its processes (KiB)"),
               ("idle_vcsw", f"idle voluntary context switches in {meta.get('idle_s')} s"),
               ("stop_ms", "stop-all (ms)")]
    steps = list(zip(sizes, sizes[1:]))
    t = Table(["metric", "manager"] + [f"N={n:,}" for n in sizes] +
              [f"per 10× N, {a:,}→{b:,}" for a, b in steps] + ["at most linear"])
    for metric, title in metrics:
        for m in managers:
            capped = {n for n in sizes if metric == "stop_ms" and censor(m, n)}
            row = [title, m] + [r.cell("lifecycle", m, n, metric, censored=n in capped)
                                for n in sizes]
            med = {n: r.median("lifecycle", m, n, metric) for n in sizes}
            worse, unknown = [], []
            for a, b in steps:
                va, vb = med[a], med[b]
                if va is None or vb is None:
                    row.append("—")
                    unknown.append(f"N={a if va is None else b:,} missing")
                    continue
                row.append(ratio((vb / va) ** (1 / math.log10(b / a)), 1)
                           if va > 0 and vb > 0 else "—")
                if va == 0:
                    if vb > 0:
                        unknown.append(f"0 at N={a:,}")
                elif vb / b > 1.1 * (va / a):  # value / N rose beyond the noise
                    worse.append(f"value / N ×{(vb / b) / (va / a):.2f}, {a:,}→{b:,}")
            unknown += [f"N={n:,} capped" for n in sorted(capped)]
            if worse:
                row.append("**no**: " + "; ".join(worse))
            elif unknown:
                row.append(f"? ({', '.join(dict.fromkeys(unknown))})")
            else:
                row.append("yes")
            t.add(row)
    r.table(t)


def main():
    results, meta_path, out_path = sys.argv[1:4]
    data = load(results)
    meta, notes, versions = load_meta(meta_path)
    shared = {int(n) for n in meta["sizes"].split()} if meta.get("sizes") else None
    r = Report(data, shared)
    reps = meta.get("reps", "?")

    r.out = ["# tend against other supervisors", "",
             "Generated by `scripts/bench-compare` (bench/compare/); do not edit by hand.", ""]
    r.para(f"- Command: `{meta.get('command')}`\n- Date: {meta.get('date')}\n"
           f"- Machine: {meta.get('machine')}; {meta.get('os')}\n"
           f"- tend: {meta.get('tend')}; peers from Debian packages: {', '.join(versions)}\n"
           f"- Settings: idle {meta.get('idle_s')} s, respawn window {meta.get('respawn_window_s')} s, "
           f"log {meta.get('log_mb')} MB, kill timeout {meta.get('kill_timeout_s')} s, "
           f"stop capped at {meta.get('stop_cap_s')} s; {reps} repetition(s); "
           f"{meta.get('elapsed')} s of runs")
    if meta.get("quick") == "1":
        r.para("**Quick mode**: small N and one repetition. It shows the harness works and the "
               "orders of magnitude; a single run on a shared 2-core machine is noisy.")
    r.para("Cells: median [min–max] over the repetitions. × floor: the median over the floor's "
           "(a bare posix_spawn loop, bench/compare/floor.c). × best peer: over the best median "
           "among runit, s6, daemontools and supervisord (named in tend's row). Lower is better "
           "everywhere. Every run starts from a fresh temporary tree; every service is "
           "bench/compare/service.c.")

    r.heading("1. Cold start: manager launched → all N services running")
    r.metric_table("lifecycle", "cold_start_ms", "ms")

    r.heading("2. Memory once running")
    r.para("The manager process alone, then the manager plus its per-service supervisors "
           "(runsv, s6-supervise, supervise); tend, supervisord and the floor have none. "
           "PSS shares each page among the processes mapping it, so the sum is fair to "
           "per-service supervisors sharing one binary.")
    for metric, title in [("mgr_rss_kb", "Manager RSS"), ("mgr_pss_kb", "Manager PSS"),
                          ("all_rss_kb", "Manager + supervisors, RSS summed"),
                          ("all_pss_kb", "Manager + supervisors, PSS summed")]:
        r.heading(title, 3)
        r.metric_table("lifecycle", metric, "KiB")
    r.heading("Processes counted", 3)
    r.metric_table("lifecycle", "processes", "count", ratios=False)

    r.heading(f"3. Idle: all N running, nothing happening for {meta.get('idle_s')} s")
    r.para("CPU is utime + stime of every manager process (clock ticks, 10 ms each: 0 means "
           "less than a tick); wakeups are voluntary context switches summed over their threads.")
    r.heading("CPU time", 3)
    r.metric_table("lifecycle", "idle_cpu_ms", "ms")
    r.heading("Voluntary context switches", 3)
    r.metric_table("lifecycle", "idle_vcsw", "count")

    r.heading("4. Respawn: one service that exits at once")
    r.para(f"Observed for {meta.get('respawn_window_s')} s after its first start. *default*: the manager's respawn "
           "policy as shipped; *fast*: the fastest its configuration allows (only tend and "
           "supervisord have a knob; runit, s6 and daemontools always wait about a second). "
           "Gave up: no start in the last second of the window, or in three median intervals.")
    t = Table(["manager", "policy", "starts", "median interval (ms)", "min interval (ms)",
               "× floor", "× best peer", "gave up"])
    floor_med = r.median("respawn-default", "floor", 1, "interval_median_ms")
    peer_meds = [(r.median(s, p, 1, "interval_median_ms"), p) for s in ("respawn-default", "respawn-fast")
                 for p in PEERS if p in r.present]
    peer_meds = [x for x in peer_meds if x[0] is not None]
    best = min(peer_meds) if peer_meds else (None, None)
    for m in r.present:
        for scen, policy in [("respawn-default", "default"), ("respawn-fast", "fast")]:
            if not any(k[0] == scen and k[1] == m for k in data):
                continue
            if r.failed(scen, m, 1):
                t.add([m, policy, "failed", "", "", "", "", ""])
                continue
            med = r.median(scen, m, 1, "interval_median_ms")
            gave = data.get((scen, m, 1, "gave_up"), [])
            t.add([m, policy, r.cell(scen, m, 1, "starts"), r.cell(scen, m, 1, "interval_median_ms"),
                   r.cell(scen, m, 1, "interval_min_ms"), ratio(med, floor_med),
                   ratio(med, best[0]) + (f" ({best[1]})" if m == "tend" and best[0] else ""),
                   "/".join(sorted(set(gave))) or "—"])
    r.table(t)

    r.heading(f"5. Stop: N services that ignore SIGTERM, kill timeout {meta.get('kill_timeout_s')} s")
    r.para("From the stop command to the moment every service process has exited (pidfds), "
           "capped: a manager that never escalates to SIGKILL shows the cap with “≥”, "
           "and how many services were still alive then.")

    def stop_censor(m, n):
        left = num(data.get(("lifecycle", m, n, "stop_left"), []))
        if left and max(left) > 0:
            return f"{fmt(max(left))} of {n} services still running when the cap was reached"
        return None
    r.metric_table("lifecycle", "stop_ms", "ms", censor=stop_censor)

    r.heading(f"6. Log throughput: one service writes {meta.get('log_mb')} MB of numbered lines as fast as it can")
    r.para("From the service's start to the last byte in its log files (rotations included), "
           "then every line checked: lost, torn (not exactly one 12-digit number) or duplicated "
           "lines must all be 0. The floor hands the log file straight to the service.")
    t = Table(["manager", "time (ms)", "× floor", "× best peer", "MB/s", "lost", "torn",
               "duplicated"])
    floor_ms = r.median("log", "floor", 1, "log_ms")
    best = r.best_peer("log", 1, "log_ms")
    for m in r.present:
        if r.failed("log", m, 1) and not r.values("log", m, 1, "log_ms"):
            t.add([m, "failed", "", "", "", "", "", ""])
            continue
        ms = r.median("log", m, 1, "log_ms")
        incomplete = num(data.get(("log", m, 1, "incomplete_bytes"), []))
        worst = lambda metric: fmt(max(r.values("log", m, 1, metric), default=None))
        t.add([m, r.cell("log", m, 1, "log_ms") + (f" (incomplete: {fmt(max(incomplete))} bytes missing)" if incomplete else ""),
               ratio(ms, floor_ms), ratio(ms, best[0]) + (f" ({best[1]})" if m == "tend" and best[0] else ""),
               r.cell("log", m, 1, "log_mb_s"), worst("lost"), worst("torn"), worst("duplicated")])
    r.table(t)

    r.heading("7. Event fan-out (tend and the floor)")
    r.para("Each manager started and its configuration read, its N services waiting to be "
           "started: tend's N jobs `start on go`, the floor's N spawns on a signal. The clock "
           "starts as the trigger is sent (tend: `tendctl emit go`, a client process, which "
           "returns once the jobs run; the floor: SIGUSR1) and stops at the last service's "
           "start record.")
    sizes = r.sizes("fanout")
    t = Table(["manager"] + [c for n in sizes for c in (f"N={n}: all running (ms)", "trigger returned (ms)", "× floor")])
    for m in [m for m in ("floor", "tend") if m in r.present]:
        row = [m]
        for n in sizes:
            med = r.median("fanout", m, n, "all_running_ms")
            row += [r.cell("fanout", m, n, "all_running_ms"), r.cell("fanout", m, n, "go_return_ms"),
                    ratio(med, r.median("fanout", "floor", n, "all_running_ms"))]
        t.add(row)
    r.table(t)

    r.heading("8. Scale (tend and the floor)")
    scale_table(r, meta, stop_censor)

    failures = sorted({(k[0], k[1], k[2]) for k in data if k[3] == "failed"})
    if failures:
        r.heading("Runs that failed")
        r.para("\n".join(f"- {s} / {m} / N={n} (stderr in build-bench/compare/last-run.log)"
                         for s, m, n in failures))

    r.heading("How each manager is set up")
    r.para("\n".join(f"- **{m}**: {notes.get(m, '')}" for m in r.present))

    text = "\n".join(r.out).strip() + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
