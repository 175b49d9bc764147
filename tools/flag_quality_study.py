#!/usr/bin/env python3
"""Measured quality of the pulsatile-artifact flag on paired synthetic cohorts with known truth
(issue 7 item 5; the tables in docs/flags.md "Calibration and measured quality").

  python tools/flag_quality_study.py --binary .build/release/mlung-audit --work /tmp/flag-study \\
      [--model models/demo-v2.safetensors] [--tune 21,22,23,24,25,26] [--report 31,...,38] \\
      [--patients 40] [--config templates/flags.yaml] [--search] [--json OUT.json] [--verbose]

Paired design. Every seed is rendered twice (kept under --work): with a cardiac-motion artifact
on every patient (`--artifact-rate 1`) and without (`--artifact-rate 0`); both are
`synth --patients 40 --profile scanner-a --mix healthy=0.5,covid19=0.3,h1n1=0.1,cap=0.1`,
the same patients pixel for pixel outside the artifact (docs/synthetic.md). Both renders go
through `mlung-audit run` with the model, then `flags` (with --config when given, and
`pulsatile.onlyPositiveCalls: false` laid over it so every scan's measurements are stored;
the spec's rule is that result on the scans called not healthy), read back through `export`.
A study scan is one render of one patient: 80 per seed, half with the artifact.

Truth, per scan the model called not healthy (the spec applies the flag only there):
- **artifact-caused false positive** (the flag should fire): healthy, rendered with the
  artifact, and the same patient without the artifact called healthy (the twin check);
- everything else called not healthy is a scan the flag should leave alone: diseased patients
  (with or without the artifact), healthy scans without the artifact called sick (another
  cause), and healthy artifact scans whose twin is called sick as well (the artifact is not
  what made the call; listed separately).
"Lesions beside the heart" (the issue's COVID-19 check): at least 50 mm2 of lesion (truth masks)
within 20 mm of the heart, in plane, summed over slices.

--search (tuning seeds only) grid-searches the thresholds of the rule's gates and signs on the
stored measurements, with a replica of the rule (`fires` below): the best precision on
artifact-caused false positives among positive calls with recall at least 0.6 and the
COVID-19-beside-the-heart firing rate at most 5%; the replica is checked against the binary on every scan of the given config.
Reporting seeds are never looked at by the search. The defaults in FlagConfig are its result on
seeds 21-26 (docs/flags.md).
"""
import argparse
import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlung_ref  # noqa: E402

MIX = "healthy=0.5,covid19=0.3,h1n1=0.1,cap=0.1"


def sh(args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode not in (0, 66):
        sys.exit(f"{' '.join(map(str, args))} failed ({r.returncode}): {r.stderr[-2000:]}")
    return r.stdout


def beside_heart_mm2(truth_file: Path, pixel_mm: float, band_mm=20.0) -> float:
    st = mlung_ref.read_safetensors(truth_file)
    info = st.header["labels"]
    lab = np.frombuffer(st.raw("labels"), dtype=np.uint8).reshape(info["shape"])
    total = 0
    for k in range(lab.shape[0]):
        heart = (lab[k] & 4) != 0
        lesion = (lab[k] & 2) != 0
        if not heart.any() or not lesion.any():
            continue
        d = ndimage.distance_transform_edt(~heart) * pixel_mm
        total += int((lesion & (d <= band_mm)).sum())
    return total * pixel_mm * pixel_mm


def load_config(path):
    if not path:
        return {}
    text = Path(path).read_text()
    if path.endswith((".yaml", ".yml")):
        import yaml
        return yaml.safe_load(text) or {}
    return json.loads(text)


def render(a, seed, rate):
    """Synth, run and flags for one render; returns {patient: record}."""
    work = Path(a.work)
    cohort = work / f"cohort-{seed}-a{rate}"
    if not (cohort / "manifest.csv").exists():
        extra = ["--truth-masks"] if rate == 1 else []
        sh([a.binary, "synth", "--out", cohort, "--patients", a.patients, "--seed", seed, "--profile", "scanner-a",
            "--mix", MIX, "--artifact-rate", rate, "--id-prefix", "Q", *extra])
    db = work / f"{Path(a.model).stem}-{seed}-a{rate}.sqlite"
    done = Path(f"{db}.done")
    if not done.exists():
        db.unlink(missing_ok=True)
        sh([a.binary, "run", "--cohort", cohort / "manifest.csv", "--model", a.model, "--db", db, "--label", Path(a.model).stem])
        done.touch()
    cfg = load_config(a.config)
    cfg.setdefault("pulsatile", {})["onlyPositiveCalls"] = False
    cfg_path = work / "study-config.json"
    cfg_path.write_text(json.dumps(cfg))
    sh([a.binary, "flags", "--run", 1, "--db", db, "--json", "--all", "--recompute", "--config", cfg_path])
    export = json.loads(sh([a.binary, "export", "--run", 1, "--db", db]))
    rows = {r["patient_id"]: r for r in csv.DictReader(open(cohort / "manifest.csv"))}
    out = {}
    for p in export["patients"]:
        if p.get("predicted") is None:
            continue
        flags = p.get("flags") or {}
        fired = {f["flag"]: f for f in flags.get("fired", [])}
        pa = fired.get("pulsatile_artifact")
        out[p["patientID"]] = dict(label=rows[p["patientID"]]["label"], artifact=rows[p["patientID"]]["artifact"] == "yes",
                                   predicted=p["predicted"], fired=pa is not None, level=pa["level"] if pa else "",
                                   m=(flags.get("measurements") or {}).get("pulsatile_artifact", {}))
    return out


def study_seed(a, seed):
    with_art, without = render(a, seed, 1), render(a, seed, 0)
    work = Path(a.work)
    cache = work / f"beside-{seed}.json"
    beside = json.loads(cache.read_text()) if cache.exists() else {}
    scans = []
    for pid, r in sorted(with_art.items()):
        if r["label"] != "healthy" and pid not in beside:
            beside[pid] = beside_heart_mm2(work / f"cohort-{seed}-a1" / "truth" / f"{pid}.safetensors", 380 / 256)
        twin = without.get(pid)
        for render_rate, x in ((1, r), (0, twin)):
            if x is None:
                continue
            scans.append(dict(x, seed=seed, pid=pid, render=render_rate, beside=beside.get(pid, 0.0),
                              twin_predicted=(twin or {}).get("predicted") if render_rate == 1 else None))
    cache.write_text(json.dumps(beside))
    return scans


def category(s):
    """What a positive call is, for the flag."""
    if s["label"] != "healthy":
        return "disease"
    if s["render"] == 0:
        return "clean_fp"
    return "artifact_fp" if s["twin_predicted"] == 0 else "artifact_fp_not_caused"


def ratio(a, b):
    return None if b == 0 else a / b


def summarise(scans, fired_of=lambda s: s["fired"], level_of=lambda s: s["level"]):
    pos = [s for s in scans if s["predicted"] != 0]
    caused = [s for s in pos if category(s) == "artifact_fp"]
    fired = [s for s in pos if fired_of(s)]
    prob = [s for s in pos if fired_of(s) and level_of(s) == "probable"]
    tp = [s for s in fired if category(s) == "artifact_fp"]
    tpp = [s for s in prob if category(s) == "artifact_fp"]

    def fired_in(pred):
        sel = [s for s in pos if pred(s)]
        return sum(bool(fired_of(s)) for s in sel), len(sel)

    healthy_art = [s for s in scans if s["label"] == "healthy" and s["render"] == 1]
    made = [s for s in fired if s["render"] == 1 and s["twin_predicted"] == 0]
    made_all = [s for s in pos if s["render"] == 1 and s["twin_predicted"] == 0]
    return dict(
        scans=len(scans), healthy_artifact=len(healthy_art),
        healthy_artifact_called=sum(s["predicted"] != 0 for s in healthy_art), artifact_fp=len(caused),
        fired=len(fired), probable=len(prob),
        precision=ratio(len(tp), len(fired)), recall=ratio(len(tp), len(caused)),
        precision_probable=ratio(len(tpp), len(prob)), recall_probable=ratio(len(tpp), len(caused)),
        artifact_made=len(made_all), precision_made=ratio(len(made), len(fired)), recall_made=ratio(len(made), len(made_all)),
        covid_beside=fired_in(lambda s: s["label"] == "covid19" and s["beside"] >= 50),
        covid_beside_clean=fired_in(lambda s: s["label"] == "covid19" and s["beside"] >= 50 and s["render"] == 0),
        disease=fired_in(lambda s: category(s) == "disease"),
        disease_artifact=fired_in(lambda s: category(s) == "disease" and s["render"] == 1),
        disease_driven=fired_in(lambda s: category(s) == "disease" and s["render"] == 1 and s["twin_predicted"] == 0),
        clean_fp=fired_in(lambda s: category(s) == "clean_fp"),
        not_caused=fired_in(lambda s: category(s) == "artifact_fp_not_caused"),
    )


# ---- replica of PulsatileArtifactDetector's decision on stored measurements (for --search) ----

DEFAULTS = dict(minHeartShare=0.8, maxGroundGlassShare=0.008, maxConsolidationCM3=1.5, edgeWidthRatio=1.3,
                doubledProfileShare=0.25, doubledShareRatio=1.5, bandingRatio=10.0, spreadRatio=1.6, darkRatio=6.0,
                minNonParametricHealthy=0.9, minBandShare=0.6, maxNeighbourDice=0.3, coarseMapCellMM=20.0,
                minSigns=2, probableSigns=3)
SIGNS = ["edge_width_ratio", "doubled_share", "banding_ratio", "spread_ratio", "dark_ratio"]


def num(m, k):
    v = m.get(k)
    return float("nan") if v is None else float(v)


def sign_list(m, t):
    d, dw = num(m, "doubled_share"), num(m, "doubled_share_wall")
    out = [num(m, "edge_width_ratio") >= t["edgeWidthRatio"],
           d >= t["doubledProfileShare"] and (np.isnan(dw) or d >= t["doubledShareRatio"] * dw),
           num(m, "banding_ratio") >= t["bandingRatio"],
           num(m, "spread_ratio") >= t["spreadRatio"],
           num(m, "dark_ratio") >= t["darkRatio"]]
    # The neighbour Dice sign also needs >= 20 abnormal pixels, which the export does not carry;
    # it never counts on the demo models' coarse maps.
    out.append(num(m, "coarse_map") != 1 and num(m, "neighbour_dice") < t["maxNeighbourDice"])
    return out


def gates(m, t):
    npv = num(m, "nonparametric_healthy")
    return ((num(m, "coarse_map") == 1 or num(m, "f_band") >= t["minBandShare"])
            and num(m, "f_heart") >= t["minHeartShare"]
            and num(m, "ggo_share_outside") < t["maxGroundGlassShare"]
            and num(m, "consolidation_cm3") <= t["maxConsolidationCM3"]
            and (t["minNonParametricHealthy"] <= 0 or np.isnan(npv) or npv >= t["minNonParametricHealthy"]))


def fires(m, t):
    if not gates(m, t):
        return ""
    n = sum(sign_list(m, t))
    if n < max(1, t["minSigns"]):
        return ""
    return "probable" if n >= t["probableSigns"] else "suspected"


GRID = dict(
    minHeartShare=[0.6, 0.8, 0.9],
    maxGroundGlassShare=[0.007, 0.008, 0.01],
    maxConsolidationCM3=[1.0, 1.5],
    minNonParametricHealthy=[0.0, 0.9, 0.95, 0.99],
    edgeWidthRatio=[1.15, 1.2, 1.3, 10],
    bandingRatio=[1.9, 2.1, 10],
    spreadRatio=[1.5, 1.6, 1.7, 1.9],
    darkRatio=[4.0, 4.5, 5.0, 6.0],
    minSigns=[1, 2, 3],
)


def search(scans, base, max_covid=0.05, min_recall=0.6):
    """Exhaustive search over GRID (vectorised; 10 in a ratio's list turns that sign off): the best
    precision (then recall) on artifact-caused false positives among positive calls, with recall at
    least min_recall and firing on COVID-19 beside the heart at most max_covid."""
    pos = [s for s in scans if s["predicted"] != 0]
    col = lambda k: np.array([num(s["m"], k) for s in pos])
    v = {k: col(k) for k in ["f_heart", "ggo_share_outside", "consolidation_cm3", "nonparametric_healthy", "edge_width_ratio",
                             "doubled_share", "doubled_share_wall", "banding_ratio", "spread_ratio", "dark_ratio"]}
    truth = np.array([category(s) == "artifact_fp" for s in pos])
    covid = np.array([s["label"] == "covid19" and s["beside"] >= 50 for s in pos])
    dw = v["doubled_share_wall"]
    doubled = (v["doubled_share"] >= base["doubledProfileShare"]) & (np.isnan(dw) | (v["doubled_share"] >= base["doubledShareRatio"] * dw))
    keys = list(GRID)
    best = None
    with np.errstate(invalid="ignore"):
        for values in itertools.product(*(GRID[k] for k in keys)):
            t = dict(base, **dict(zip(keys, values)))
            npv = v["nonparametric_healthy"]
            g = ((v["f_heart"] >= t["minHeartShare"]) & (v["ggo_share_outside"] < t["maxGroundGlassShare"])
                 & (v["consolidation_cm3"] <= t["maxConsolidationCM3"])
                 & ((t["minNonParametricHealthy"] <= 0) | np.isnan(npv) | (npv >= t["minNonParametricHealthy"])))
            n = ((v["edge_width_ratio"] >= t["edgeWidthRatio"]).astype(int) + doubled + (v["banding_ratio"] >= t["bandingRatio"])
                 + (v["spread_ratio"] >= t["spreadRatio"]) + (v["dark_ratio"] >= t["darkRatio"]))
            fired = g & (n >= max(1, t["minSigns"]))
            if not fired.any() or (covid.any() and fired[covid].mean() > max_covid):
                continue
            tp = int((fired & truth).sum())
            p, r = tp / fired.sum(), tp / max(truth.sum(), 1)
            if r < min_recall:
                continue
            key = (round(p, 6), round(r, 6))
            if best is None or key > best[0]:
                best = (key, t, p, r)
    return best


def fmt(x):
    return "n/a" if x is None else f"{x:.2f}"


def table(result):
    cols = list(result)
    lines = ["| measure | " + " | ".join(cols) + " |", "| --- |" + " --- |" * len(cols)]

    def row(name, f):
        lines.append(f"| {name} | " + " | ".join(f(result[c]) for c in cols) + " |")

    def frac(k):
        return lambda r: f"{r[k][0]} of {r[k][1]}"
    row("scans (healthy with artifact; called sick)", lambda r: f"{r['scans']} ({r['healthy_artifact']}; {r['healthy_artifact_called']})")
    row("artifact-caused false positives (twin called healthy)", lambda r: str(r["artifact_fp"]))
    row("`pulsatile_artifact` fired on positive calls (probable)", lambda r: f"{r['fired']} ({r['probable']})")
    row("precision / recall, any level", lambda r: f"{fmt(r['precision'])} / {fmt(r['recall'])}")
    row("precision / recall, `probable`", lambda r: f"{fmt(r['precision_probable'])} / {fmt(r['recall_probable'])}")
    row("calls the artifact made, any patient (twin called healthy)", lambda r: str(r["artifact_made"]))
    row("precision / recall against those", lambda r: f"{fmt(r['precision_made'])} / {fmt(r['recall_made'])}")
    row("fired on COVID-19 called sick, lesions beside the heart", frac("covid_beside"))
    row("... of them without the artifact", frac("covid_beside_clean"))
    row("fired on any disease called sick", frac("disease"))
    row("... of them with the artifact", frac("disease_artifact"))
    row("... of them called sick only with the artifact (twin called healthy)", frac("disease_driven"))
    row("fired on artifact-free healthy called sick", frac("clean_fp"))
    row("fired on healthy artifact scans whose twin is called sick too", frac("not_caused"))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/mlung-audit")
    ap.add_argument("--work", default="/tmp/flag-study")
    ap.add_argument("--model", default="models/demo-v2.safetensors")
    ap.add_argument("--tune", default="21,22,23,24,25,26")
    ap.add_argument("--report", default="31,32,33,34,35,36,37,38")
    ap.add_argument("--patients", type=int, default=40)
    ap.add_argument("--config", default="", help="threshold overrides, JSON or YAML (YAML needs PyYAML)")
    ap.add_argument("--search", action="store_true", help="grid-search the thresholds on the tuning seeds")
    ap.add_argument("--json", default="")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--from-json", default="", help="re-summarise the scans a previous --json wrote (no synth, run or flags)")
    a = ap.parse_args()
    Path(a.work).mkdir(parents=True, exist_ok=True)
    base = dict(DEFAULTS, **(load_config(a.config).get("pulsatile") or {}))
    result, everything = {}, {}
    mismatches = 0
    for role, seeds in (("tune", a.tune), ("report", a.report)):
        allscans = []
        saved = json.loads(Path(a.from_json).read_text())["scans"].get(role, []) if a.from_json else None
        for s in [int(x) for x in seeds.split(",") if x]:
            scans = [x for x in saved if x["seed"] == s] if saved is not None else study_seed(a, s)
            for x in scans:
                if bool(fires(x["m"], base)) != x["fired"] or (x["fired"] and fires(x["m"], base) != x["level"]):
                    mismatches += 1
                    print(f"replica differs from the binary: seed {s} {x['pid']} a{x['render']}", file=sys.stderr)
            allscans += scans
            result[f"{role} {s}"] = summarise(scans)
            if a.verbose:
                for x in scans:
                    if x["predicted"] != 0 and (x["fired"] or category(x) != "disease" or x["render"] == 1):
                        keys = ["f_heart", "band_left_share", "motion_signs", "ggo_share_outside", "consolidation_cm3",
                                "edge_width_ratio", "doubled_share", "doubled_share_wall", "banding_ratio", "spread_ratio"]
                        ms = " ".join(f"{k}={'nan' if x['m'].get(k) is None else round(x['m'][k], 3)}" for k in keys)
                        print(f"  {s} {x['pid']} a{x['render']} {x['label']} {category(x)} pred={x['predicted']} "
                              f"beside={x['beside']:.0f} fired={x['level'] or '-'} {ms}", file=sys.stderr)
        if allscans:
            result[f"{role} (all)"] = summarise(allscans)
            everything[role] = allscans
    print(table(result))
    print(f"\nreplica of the rule vs the binary: {mismatches} differences", file=sys.stderr)
    if a.search and everything.get("tune"):
        best = search(everything["tune"], base)
        if best is None:
            print("search: no setting meets the COVID-19 constraint", file=sys.stderr)
        else:
            (_, t, p, r) = best
            chosen = {k: t[k] for k in GRID}
            print(f"\nsearch on the tuning seeds: precision {p:.2f} recall {r:.2f} with {json.dumps(chosen)}")
            if everything.get("report"):
                rep = summarise(everything["report"], fired_of=lambda s: fires(s["m"], t), level_of=lambda s: fires(s["m"], t))
                print(f"(replica on the reporting seeds: precision {fmt(rep['precision'])} recall {fmt(rep['recall'])})")
    if a.json:
        Path(a.json).write_text(json.dumps(dict(result=result, scans=everything), indent=1))


if __name__ == "__main__":
    main()
