#!/usr/bin/env python3
"""Measured quality of `mlung-audit drift` on synthetic scanner profiles (docs/drift.md).

For pair i (i = 0 .. pairs-1) the reference cohort is scanner-a with seed BASE + 2i and the
candidate patients are seed BASE + 2i + 1 (other patients, same class mix):

- null:   the candidate patients on scanner-a (same profile): any drift verdict is a false alarm;
- shifts (pairs 0 .. shift_pairs-1): the same candidate patients on scanner-a with one known
  shift alone (scanner-a-noise2, scanner-a-sharp, scanner-a-hu25, scanner-a-thick).

Every cohort is generated with `mlung-audit synth`, the reference is run with `mlung-audit run`,
each candidate goes through `mlung-audit drift --candidate-manifest M --model W` (the
shortcut: inference into the store, then drift). Everything is resumable: cohorts with a
manifest are kept, finished runs are reused. The table (Markdown) goes to stdout and
WORK/quality.md, the raw figures to WORK/quality.json.

Standard library only. Example (the figures of docs/drift.md):

    python3 tools/drift_quality_study.py --binary .build-h3/release/mlung-audit \\
        --work /tmp/h3/study --pairs 40 --shift-pairs 10 --patients 12 --cross 4
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

SHIFTS = {
    # profile: (what changed, the factors that name the cause)
    "scanner-a-noise2": ("noise x2 (tags unchanged)", ["image.noise_index"]),
    "scanner-a-sharp": ("sharp kernel (SHARP tag)", ["metadata.kernel", "image.edge_width"]),
    "scanner-a-hu25": ("HU offset +25", ["image.hu_air", "image.hu_fat", "image.hu_lung"]),
    "scanner-a-thick": ("7.5 mm slices (5 mm)", ["metadata.slice_thickness", "image.slice_count"]),
}
# Factors that are consequences of any input shift, not misattributions: the model's own view
# of the input and what it says.
DOWNSTREAM = ("features.", "outputs.", "performance.")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(cmd, ok=(0,)):
    t = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode not in ok:
        log(r.stderr[-3000:])
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}")
    return r, time.time() - t


def clopper_pearson(k, n, conf=0.95):
    """Exact binomial interval (bisection on the binomial CDF; no SciPy needed)."""
    def cdf(x, p):
        return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(0, x + 1))
    a = (1 - conf) / 2

    def solve(f):
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if f(mid):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    lower = 0.0 if k == 0 else solve(lambda p: 1 - cdf(k - 1, p) < a)
    upper = 1.0 if k == n else solve(lambda p: cdf(k, p) > a)
    return lower, upper


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=".build-h3/release/mlung-audit")
    ap.add_argument("--model", default="models/demo-v2.safetensors")
    ap.add_argument("--work", default="/tmp/drift-study")
    ap.add_argument("--pairs", type=int, default=20, help="same-profile pairs (false-alarm rate)")
    ap.add_argument("--shift-pairs", type=int, default=5, help="pairs whose candidates are also scanned with each shift")
    ap.add_argument("--patients", type=int, default=12)
    ap.add_argument("--seed-base", type=int, default=7000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", help="drift --config FILE for every comparison")
    ap.add_argument("--shifts", default=",".join(SHIFTS), help="comma-separated shift profiles")
    ap.add_argument("--cross", type=int, default=0,
                    help="also compare reference i with the null candidate of pair i+k (k = 1..CROSS, mod pairs): "
                         "more same-profile comparisons from the same runs (not independent: each cohort is reused)")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    model = os.path.abspath(args.model)
    work = os.path.abspath(args.work)
    os.makedirs(f"{work}/cohorts", exist_ok=True)
    os.makedirs(f"{work}/drift", exist_ok=True)
    db = f"{work}/study.sqlite"
    shifts = [s for s in args.shifts.split(",") if s]
    seconds = {"synth": 0.0, "run": 0.0, "drift": 0.0}

    def cohort(name, profile, seed, prefix):
        d = f"{work}/cohorts/{name}"
        if not os.path.exists(f"{d}/manifest.csv"):
            log(f"synth {name} ({profile}, seed {seed})")
            _, s = sh([binary, "synth", "--out", d, "--patients", str(args.patients), "--seed", str(seed),
                       "--profile", profile, "--id-prefix", prefix, "--threads", str(args.threads)])
            seconds["synth"] += s
        return f"{d}/manifest.csv"

    state_path = f"{work}/runs.json"
    state = json.load(open(state_path)) if os.path.exists(state_path) else {}

    def reference_run(name, manifest):
        if name not in state:
            log(f"run {name}")
            r, s = sh([binary, "run", "--cohort", manifest, "--model", model, "--db", db, "--label", name,
                       "--threads", str(args.threads), "--json"])
            seconds["run"] += s
            state[name] = json.loads(r.stdout)["runID"]
            json.dump(state, open(state_path, "w"))
        return state[name]

    def drift(reference, name, manifest):
        out = f"{work}/drift/{name}.json"
        if not os.path.exists(out):
            log(f"drift {name} vs run {reference}")
            cmd = [binary, "drift", "--reference", str(reference), "--candidate-manifest", manifest, "--model", model,
                   "--db", db, "--label", name, "--threads", str(args.threads), "--json"]
            if args.config:
                cmd += ["--config", args.config]
            r, s = sh(cmd, ok=(0, 10, 11))
            seconds["drift"] += s
            report = json.loads(r.stdout)
            report["_exit"] = r.returncode
            json.dump(report, open(out, "w"), indent=1)
        return json.load(open(out))

    results = {"null": [], **{s: [] for s in shifts}}
    for i in range(args.pairs):
        sr, sc = args.seed_base + 2 * i, args.seed_base + 2 * i + 1
        ref = reference_run(f"ref-{i:02d}", cohort(f"ref-{i:02d}", "scanner-a", sr, "R"))
        results["null"].append(drift(ref, f"same-{i:02d}", cohort(f"same-{i:02d}", "scanner-a", sc, "C")))
        if i < args.shift_pairs:
            for s in shifts:
                results[s].append(drift(ref, f"{s}-{i:02d}", cohort(f"{s}-{i:02d}", s, sc, "C")))

    cross = []
    for k in range(1, args.cross + 1):
        for i in range(args.pairs):
            j = (i + k) % args.pairs
            if j == i:
                continue
            out = f"{work}/drift/cross-{i:02d}-{j:02d}.json"
            if not os.path.exists(out):
                cmd = [binary, "drift", "--reference", str(state[f"ref-{i:02d}"]),
                       "--candidate", str(results["null"][j]["candidate"]["id"]), "--db", db, "--json"]
                if args.config:
                    cmd += ["--config", args.config]
                log(f"drift ref-{i:02d} vs same-{j:02d}")
                r, sec = sh(cmd, ok=(0, 10, 11))
                seconds["drift"] += sec
                report = json.loads(r.stdout)
                report["_exit"] = r.returncode
                json.dump(report, open(out, "w"), indent=1)
            cross.append(json.load(open(out)))

    def summarize(report, expected):
        factors = {f["id"]: f for f in report["factors"]}
        by_description = {f["description"]: f["id"] for f in report["factors"] if f["verdict"] == "drift"}
        top = report.get("top_factor_ids") or [by_description.get(t, "?") for t in report["top_factors"]]
        drifting = [f["id"] for f in report["factors"] if f["verdict"] == "drift"]
        wrong = [f for f in drifting if f not in expected and not f.startswith(DOWNSTREAM)]
        return {
            "overall": report["overall"], "exit": report["_exit"], "top": top, "drifting": drifting,
            "detected": report["overall"] != "no_drift",
            "expected_drift": [e for e in expected if factors.get(e, {}).get("verdict") == "drift"],
            "top1_right": bool(top) and top[0] in expected,
            "in_top": any(t in expected for t in top),
            "wrong_input_factors": wrong,
            "top_factors": report["top_factors"],
        }

    table = {"null": [summarize(r, []) for r in results["null"]]}
    for s in shifts:
        table[s] = [summarize(r, SHIFTS[s][1]) for r in results[s]]

    lines = []
    lines.append(f"{args.patients} vs {args.patients} patients per comparison, model {os.path.basename(model)}, "
                 f"seeds {args.seed_base}..{args.seed_base + 2 * args.pairs - 1}.")
    lines.append("")
    lines.append("| shift (candidate profile) | comparisons | detected (exit 10 / 11) | cause among the top factors | cause is the top factor | "
                 "cause factors at `drift` | other input factors at `drift` | typical top factors |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in shifts:
        rows = table[s]
        n = len(rows)
        causes = {}
        for r in rows:
            for e in r["expected_drift"]:
                causes[e] = causes.get(e, 0) + 1
        wrong = {}
        for r in rows:
            for w in r["wrong_input_factors"]:
                wrong[w] = wrong.get(w, 0) + 1
        example = "; ".join(rows[0]["top_factors"][:3]) if rows else ""
        inputs = sum(r["overall"] == "input_drift" for r in rows)
        outputs = sum(r["overall"] == "output_drift" for r in rows)
        lines.append(f"| {SHIFTS[s][0]} (`{s}`) | {n} | {sum(r['detected'] for r in rows)}/{n} ({inputs} / {outputs}) | "
                     f"{sum(r['in_top'] for r in rows)}/{n} | {sum(r['top1_right'] for r in rows)}/{n} | "
                     + (", ".join(f"`{k}` {v}/{n}" for k, v in sorted(causes.items())) or "none") + " | "
                     + (", ".join(f"`{k}` {v}/{n}" for k, v in sorted(wrong.items())) or "none") + f" | {example} |")
    nulls = table["null"]
    k, n = sum(r["detected"] for r in nulls), len(nulls)
    lo, hi = clopper_pearson(k, n)
    per_factor = {}
    for r in nulls:
        for f in r["drifting"]:
            per_factor[f] = per_factor.get(f, 0) + 1
    lines.append("")
    lines.append(f"False alarms on same-profile pairs (scanner-a vs scanner-a, other patients): **{k}/{n}** "
                 f"({100 * k / max(n, 1):.1f}%, exact 95% interval {100 * lo:.1f}-{100 * hi:.1f}%)"
                 + (f"; factors at `drift`: " + ", ".join(f"`{f}` {c}" for f, c in sorted(per_factor.items())) if per_factor else "") + ".")
    if cross:
        ck = sum(r["overall"] != "no_drift" for r in cross)
        cf = {}
        for r in cross:
            for f in r["factors"]:
                if f["verdict"] == "drift":
                    cf[f["id"]] = cf.get(f["id"], 0) + 1
        lines.append(f"Cross pairs (reference i vs the null candidate of pair i+1..i+{args.cross}; other patients, same profile; "
                     f"not independent, each cohort is reused): **{ck}/{len(cross)}** ({100 * ck / len(cross):.1f}%)"
                     + (f"; factors at `drift`: " + ", ".join(f"`{f}` {c}" for f, c in sorted(cf.items())) if cf else "") + ".")
    # Smallest Holm-adjusted p per null comparison (how close to an alarm).
    closest = []
    for r in results["null"] + cross:
        ps = [f["p_adjusted"] for f in r["factors"] if f.get("p_adjusted") is not None]
        closest.append(min(ps) if ps else 1.0)
    if closest:
        lines.append(f"Smallest Holm-adjusted p per null comparison: median {sorted(closest)[len(closest) // 2]:.3g}, "
                     f"minimum {min(closest):.3g}; non-drift verdicts below alpha (`negligible`) are not alarms.")
    lines.append(f"Time: synth {seconds['synth']:.0f} s, reference runs {seconds['run']:.0f} s, "
                 f"candidate runs + drift {seconds['drift']:.0f} s (this invocation).")
    text = "\n".join(lines) + "\n"
    print(text)
    open(f"{work}/quality.md", "w").write(text)
    json.dump({"args": vars(args), "table": table, "false_alarms": k, "null_pairs": n, "interval95": [lo, hi],
               "cross_false_alarms": sum(r["overall"] != "no_drift" for r in cross), "cross_pairs": len(cross)},
              open(f"{work}/quality.json", "w"), indent=1)


if __name__ == "__main__":
    main()
