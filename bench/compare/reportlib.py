"""What report.py and summary.py share: the samples of a results file by scenario, manager, N
and metric, their medians and ranges, and how two of them compare."""
import math
import statistics

import results as results_file

MANAGERS = ["floor", "tend", "runit", "s6", "daemontools", "supervisord"]
PEERS = ["runit", "s6", "daemontools", "supervisord"]
NOISE = "within noise"


def num(values):
    return [float(v) for v in values if isinstance(v, (int, float))]


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
    def __init__(self, results):
        self.results = results
        self.data, self.failures = results_file.samples(results)
        self.present = [m for m in MANAGERS
                        if any(k[1] == m for k in list(self.data) + list(self.failures))]
        self.shared = set(results["sizes"])
        self.out = []

    def values(self, scenario, manager, n, metric):
        return num(self.data.get((scenario, manager, n, metric), []))

    def raw(self, scenario, manager, n, metric):
        return self.data.get((scenario, manager, n, metric), [])

    def failed(self, scenario, manager, n):
        return (scenario, manager, n) in self.failures

    def ran(self, scenario, manager):
        return any(k[0] == scenario and k[1] == manager
                   for k in list(self.data) + list(self.failures))

    def sizes(self, scenario, manager=None):
        return sorted({k[2] for k in list(self.data) + list(self.failures)
                       if k[0] == scenario and (manager is None or k[1] == manager)})

    # The sizes a comparison table shows: not the scale runs, which only tend and the floor
    # make and which would leave the peers' cells empty.
    def shared_sizes(self, scenario):
        return [n for n in self.sizes(scenario) if n in self.shared]

    def median(self, scenario, manager, n, metric):
        v = self.values(scenario, manager, n, metric)
        return statistics.median(v) if v else None

    def span(self, scenario, manager, n, metric):
        v = self.values(scenario, manager, n, metric)
        return (min(v), max(v)) if v else None

    def cell(self, scenario, manager, n, metric, censored=False):
        v = self.values(scenario, manager, n, metric)
        if not v:
            return "failed" if self.failed(scenario, manager, n) else "—"
        text = fmt(statistics.median(v))
        if len(v) > 1:
            text += f" [{fmt(min(v))}–{fmt(max(v))}]"
        return ("≥ " + text) if censored else text

    # x against ref, each (scenario, manager, n, metric): the ratio of the medians where the
    # ranges are apart, "within noise" where they overlap; "1.00×" for a manager against itself,
    # "—" where there is no ratio (a missing value, a reference of 0).
    def versus(self, x, ref):
        if x == ref:
            return ratio(1, 1) if self.median(*x) is not None else "—"
        a, b = self.span(*x), self.span(*ref)
        if a is None or b is None or not self.median(*ref):
            return "—"
        if a[0] <= b[1] and b[0] <= a[1]:
            return NOISE
        return ratio(self.median(*x), self.median(*ref))

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

    # One table per metric: rows are managers, columns each N with its two comparisons. Lower
    # is better. censor(manager, n) -> note: the value is a cap, not a measurement.
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
                if not ratios:
                    continue
                if note:
                    row += ["—", "—"]
                    continue
                excluded = [p for p in PEERS if censor and censor(p, n)]
                _, who = self.best_peer(scenario, n, metric, excluded)
                me = (scenario, m, n, metric)
                row += [self.versus(me, (scenario, "floor", n, metric)),
                        (self.versus(me, (scenario, who, n, metric)) if who else "—") +
                        (f" ({who})" if m == "tend" and who else "")]
            t.add(row)
        self.table(t)
        for note in notes:
            self.para(f"- {note}")

    def stop_censor(self, m, n):
        left = self.values("lifecycle", m, n, "stop_left")
        if left and max(left) > 0:
            return f"{fmt(max(left))} of {n} services still running when the cap was reached"
        return None


SCALE_METRICS = [("cold_start_ms", "cold start (ms)"),
                 ("all_pss_kb", "manager PSS, summed over its processes (KiB)"),
                 ("idle_vcsw", "idle voluntary context switches"),
                 ("stop_ms", "stop-all (ms)")]


# Growth of a manager's lifecycle cost with N, from the shared sizes up to the scale runs. For
# each step from one size A to the next B, the growth per 10× of N:
# (value(B) / value(A)) ** (1 / log10(B / A)): 1× is flat, 10× linear, 100× quadratic. Growth is
# at most linear when value / N does not rise (beyond 10% noise) at any step. Returns the growth
# cells and the verdict: "yes", "**no**: ..." or "? (...)".
def growth(r, m, metric, sizes):
    capped = {n for n in sizes if metric == "stop_ms" and r.stop_censor(m, n)}
    med = {n: r.median("lifecycle", m, n, metric) for n in sizes}
    cells, worse, unknown = [], [], []
    for a, b in zip(sizes, sizes[1:]):
        va, vb = med[a], med[b]
        if va is None or vb is None:
            cells.append("—")
            unknown.append(f"N={a if va is None else b:,} missing")
            continue
        cells.append(ratio((vb / va) ** (1 / math.log10(b / a)), 1) if va > 0 and vb > 0 else "—")
        if va == 0:
            if vb > 0:
                unknown.append(f"0 at N={a:,}")
        elif vb / b > 1.1 * (va / a):  # value / N rose beyond the noise
            worse.append(f"value / N ×{(vb / b) / (va / a):.2f}, {a:,}→{b:,}")
    unknown += [f"N={n:,} capped" for n in sorted(capped)]
    if worse:
        verdict = "**no**: " + "; ".join(worse)
    elif unknown:
        verdict = f"? ({', '.join(dict.fromkeys(unknown))})"
    else:
        verdict = "yes"
    return cells, verdict, capped
