#!/usr/bin/env python3
"""The results file of a bench/compare run: every raw sample, and what the run was.

    results.py RESULTS.tsv RUNS.tsv META.tsv OUT.json

RESULTS.tsv: "seq metric value" lines (bench/compare/scenario.sh). RUNS.tsv: "seq rep scenario
manager n status seconds violations" lines, one per run, in the order they ran (violations:
"; "-separated, empty when none). META.tsv: "key value"
lines, "version package value" and "note manager text" (scripts/bench-compare).

The JSON is what the reports are generated from (report.py), so it must hold everything they
show: nothing is carried over from a run's temporary files. One run per line keeps a new
results file readable in a diff.
"""
import json
import sys
from collections import defaultdict

FORMAT = "tend bench/compare results 1"
SETTINGS = ["idle_s", "respawn_window_s", "log_mb", "kill_timeout_s", "stop_cap_s"]


def value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def build(results_path, runs_path, meta_path):
    metrics = defaultdict(dict)
    with open(results_path) as f:
        for line in f:
            seq, metric, v = line.rstrip("\n").split("\t")
            metrics[int(seq)][metric] = value(v)
    meta, notes, peers = {}, {}, {}
    with open(meta_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "note":
                notes[parts[1]] = parts[2]
            elif parts[0] == "version":
                peers[parts[1]] = parts[2]
            else:
                meta[parts[0]] = parts[1] if len(parts) > 1 else ""
    runs = []
    with open(runs_path) as f:
        for line in f:
            seq, rep, scenario, manager, n, status, seconds, violated = line.rstrip("\n").split("\t")
            run = {"seq": int(seq), "rep": int(rep), "scenario": scenario, "manager": manager,
                   "n": int(n), "status": status, "seconds": int(seconds),
                   "metrics": metrics.get(int(seq), {})}
            if violated:
                run["violations"] = violated.split("; ")
            runs.append(run)
    sizes = lambda key: [int(x) for x in meta.get(key, "").split()]
    return {
        "format": FORMAT,
        "command": meta["command"],
        "commit": meta["commit"],
        "date": meta["date"],
        "machine": {"cores": int(meta["cores"]), "cpu": meta["cpu"], "kernel": meta["kernel"],
                    "os": meta["os"]},
        "tend": meta["tend"],
        "peers": peers,
        "quick": meta["quick"] == "1",
        "reps": int(meta["reps"]),
        "seed": int(meta["seed"]),
        "elapsed_s": int(meta["elapsed_s"]),
        "sizes": sizes("sizes"),
        "scale_sizes": sizes("scale_sizes"),
        "fanout_n": int(meta["fanout_n"]),
        "settings": {k: value(meta[k]) for k in SETTINGS},
        "notes": notes,
        "runs": runs,
    }


def dump(results):
    head = {k: v for k, v in results.items() if k != "runs"}
    text = json.dumps(head, indent=2, ensure_ascii=False)[:-2]
    runs = ",\n".join("    " + json.dumps(r, ensure_ascii=False) for r in results["runs"])
    return text + ',\n  "runs": [\n' + runs + "\n  ]\n}\n"


def load(path):
    with open(path) as f:
        results = json.load(f)
    if results.get("format") != FORMAT:
        sys.exit(f"{path}: not a results file of this harness ({results.get('format')!r})")
    return results


def samples(results):
    """(scenario, manager, n, metric) -> [value, ...] in run order, and the failed runs as
    {(scenario, manager, n): [what each violated, ...]} (the warm-up's too, though it measures
    nothing)."""
    data, failed = defaultdict(list), {}
    for run in results["runs"]:
        key = (run["scenario"], run["manager"], run["n"])
        if run["status"] != "ok":
            failed.setdefault(key, []).extend(
                f"rep {run['rep']}: {v}" for v in run.get("violations", []))
        if run["scenario"] == "warmup":
            continue
        for metric, v in run["metrics"].items():
            data[key + (metric,)].append(v)
    return data, failed


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    results = build(*sys.argv[1:4])
    with open(sys.argv[4], "w") as f:
        f.write(dump(results))


if __name__ == "__main__":
    main()
