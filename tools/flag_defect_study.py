#!/usr/bin/env python3
"""Measured precision and recall of the failure-mode flags other than the pulsatile one, on
synthetic cohorts whose acquisition defects are known (issue 7 item 5; docs/flags.md
"The other flags, measured").

  python tools/flag_defect_study.py --binary .build/release/mlung-audit --work /tmp/defect-study \\
      [--seeds 51,52,53,54,55,56] [--patients 40] [--model models/demo-v2.safetensors] \\
      [--baseline-model models/demo-v1.safetensors] [--config templates/flags.yaml] [--json OUT.json]

Per seed, one store under --work with three runs of the same patients:
1. `synth --profile scanner-a --defects metal=0.1,contrast=0.1,truncated=0.1,gap=0.1,small_fov=0.1
   --artifact-rate 0.3`, run with the model (the reference scanner);
2. the same patients and defects rendered by `--profile scanner-b` (the new scanner: noise
   2.2x, HU x1.02 + 22, sharper kernel, 7.5 mm slices), run with the model;
3. run 1's cohort run with the baseline model (the earlier version, for version flips).
`flags` runs on 1 with baseline 3, and on 2 with reference run 1 (the noise reference), then
`export` reads everything back.

Truth per flag (the manifest's `defect` and `profile` columns):
- metal: defect metal; contrast_enhanced: defect contrast; truncated_coverage: defect
  truncated; bad_geometry: defect gap (missing slices); crop_failure: defect small_fov (a
  reconstruction field of view narrower than the lungs);
- heavy_noise: the noise the generator added (manifest `noise_hu`, which grows with the
  patient's width) is over twice the median of the seed's scanner-a render (the reference
  run, whose median noise index is the detector's reference); also reported against the
  render alone (every scanner-b patient counted as noisy);
- hu_miscalibration: the scanner-b render (x1.02 + 22 HU on every patient);
- wrong_body_part: no patient should fire (the cohorts hold no other body part), so every
  firing is counted and listed by what the patient carries;
- low_confidence: the flag is useful when it marks the model's mistakes, so its "truth" is a
  wrong call (top class != label);
- version_flip: the two runs' top classes differ, recomputed here from their predictions
  (exact by definition; the check is that the binary agrees).
Each flag's false positives are broken down by the patient's defect and render, so a flag
that reacts to another defect (e.g. metal read as an HU problem) shows where.
"""
import argparse
import collections
import csv
import json
import subprocess
import sys
from pathlib import Path

MIX = "healthy=0.4,covid19=0.2,h1n1=0.2,cap=0.2"
DEFECTS = "metal=0.1,contrast=0.1,truncated=0.1,gap=0.1,small_fov=0.1"
FLAGS = ["metal", "contrast_enhanced", "truncated_coverage", "bad_geometry", "heavy_noise", "heavy_noise (truth: scanner-b)", "hu_miscalibration",
         "crop_failure", "crop_failure (level failed)", "wrong_body_part", "low_confidence", "version_flip", "pulsatile_artifact"]
TRUTH_DEFECT = {"metal": "metal", "contrast_enhanced": "contrast", "truncated_coverage": "truncated", "bad_geometry": "gap",
                "crop_failure": "small_fov"}
CLASSES = ["healthy", "covid19", "h1n1", "cap"]


def sh(args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode not in (0, 66):
        sys.exit(f"{' '.join(map(str, args))} failed ({r.returncode}): {r.stderr[-2000:]}")
    return r.stdout


def cohort(a, seed, profile):
    out = Path(a.work) / f"cohort-{seed}-{profile}"
    if not (out / "manifest.csv").exists():
        sh([a.binary, "synth", "--out", out, "--patients", a.patients, "--seed", seed, "--profile", profile, "--mix", MIX,
            "--artifact-rate", 0.3, "--defects", DEFECTS, "--id-prefix", "D"])
    return out


def ensure_run(a, db, manifest, model, label, expected_id):
    """Runs are numbered in the order they were made; a finished run is not made again."""
    done = Path(f"{db}.run{expected_id}")
    if not done.exists():
        out = sh([a.binary, "run", "--cohort", manifest, "--model", model, "--db", db, "--label", label])
        if f"run {expected_id}:" not in out:
            sys.exit(f"expected run {expected_id} in {db}, got: {out[-500:]}")
        done.touch()


def study_seed(a, seed):
    db = Path(a.work) / f"defects-{seed}.sqlite"
    ca, cb = cohort(a, seed, "scanner-a"), cohort(a, seed, "scanner-b")
    ensure_run(a, db, ca / "manifest.csv", a.model, Path(a.model).stem, 1)
    ensure_run(a, db, cb / "manifest.csv", a.model, Path(a.model).stem, 2)
    ensure_run(a, db, ca / "manifest.csv", a.baseline_model, Path(a.baseline_model).stem, 3)
    cfg = ["--config", a.config] if a.config else []
    sh([a.binary, "flags", "--run", 1, "--db", db, "--baseline", 3, "--recompute", *cfg])
    sh([a.binary, "flags", "--run", 2, "--db", db, "--reference", 1, "--recompute", *cfg])
    scans = []
    rows_a = list(csv.DictReader(open(ca / "manifest.csv")))
    noise_ref = sorted(float(r["noise_hu"]) for r in rows_a)[len(rows_a) // 2]
    base = {p["patientID"]: p for p in json.loads(sh([a.binary, "export", "--run", 3, "--db", db]))["patients"]}
    for run, c, profile in ((1, ca, "scanner-a"), (2, cb, "scanner-b")):
        rows = {r["patient_id"]: r for r in csv.DictReader(open(c / "manifest.csv"))}
        for p in json.loads(sh([a.binary, "export", "--run", run, "--db", db]))["patients"]:
            r = rows[p["patientID"]]
            fired = {f["flag"]: f for f in ((p.get("flags") or {}).get("fired") or [])}
            b = base.get(p["patientID"]) if run == 1 else None
            scans.append(dict(seed=seed, pid=p["patientID"], profile=profile, label=r["label"], defect=r["defect"],
                              detail=r["defect_detail"], artifact=r["artifact"] == "yes", predicted=p.get("predicted"),
                              noise_hu=float(r["noise_hu"]), noise_ref=noise_ref,
                              baseline_predicted=None if b is None else b.get("predicted"),
                              fired=sorted(fired), reasons={k: v.get("reasons") for k, v in fired.items()},
                              levels={k: v.get("level") for k, v in fired.items()}))
    return scans


# Rows that judge a flag other than by its plain name: row -> (flag, level it must fire at, or None).
ROW_FLAG = {"heavy_noise (truth: scanner-b)": ("heavy_noise", None), "crop_failure (level failed)": ("crop_failure", "failed")}


def did_fire(row, s):
    flag, level = ROW_FLAG.get(row, (row, None))
    return flag in s["fired"] and (level is None or s["levels"].get(flag) == level)


def truth(flag, s):
    if flag in ROW_FLAG and ROW_FLAG[flag][1] is not None:
        flag = ROW_FLAG[flag][0]
    if flag in TRUTH_DEFECT:
        return s["defect"] == TRUTH_DEFECT[flag]
    if flag == "heavy_noise":
        return s["noise_hu"] > 2 * s["noise_ref"]
    if flag in ("heavy_noise (truth: scanner-b)", "hu_miscalibration"):
        return s["profile"] == "scanner-b"
    if flag == "low_confidence":
        return s["predicted"] is not None and s["predicted"] != CLASSES.index(s["label"])
    if flag == "version_flip":
        if s["baseline_predicted"] is None or s["predicted"] is None:
            return False
        return s["baseline_predicted"] != s["predicted"]
    return False


def ratio(a, b):
    return None if b == 0 else a / b


def fmt(x):
    return "n/a" if x is None else f"{x:.2f}"


def kind(s):
    return f"{s['profile']}/{s['defect']}" + ("/artifact" if s["artifact"] else "")


def summarise(scans):
    out = {}
    for flag in FLAGS:
        sel = [s for s in scans if flag != "version_flip" or s["profile"] == "scanner-a"]
        if flag == "pulsatile_artifact":
            continue
        pos = [s for s in sel if truth(flag, s)]
        fired = [s for s in sel if did_fire(flag, s)]
        tp = [s for s in fired if truth(flag, s)]
        fp = [s for s in fired if not truth(flag, s)]
        fn = [s for s in pos if not did_fire(flag, s)]
        out[flag] = dict(scans=len(sel), positives=len(pos), fired=len(fired), tp=len(tp),
                         precision=ratio(len(tp), len(fired)), recall=ratio(len(tp), len(pos)),
                         false_positives=dict(collections.Counter(kind(s) for s in fp)),
                         misses=[f"{s['seed']} {s['pid']} {s['profile']} {s['defect']} ({s['detail']})" for s in fn][:20])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/mlung-audit")
    ap.add_argument("--work", default="/tmp/defect-study")
    ap.add_argument("--model", default="models/demo-v2.safetensors")
    ap.add_argument("--baseline-model", default="models/demo-v1.safetensors")
    ap.add_argument("--seeds", default="51,52,53,54,55,56")
    ap.add_argument("--patients", type=int, default=40)
    ap.add_argument("--config", default="")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    Path(a.work).mkdir(parents=True, exist_ok=True)
    scans = []
    per_seed = {}
    for seed in [int(x) for x in a.seeds.split(",") if x]:
        s = study_seed(a, seed)
        per_seed[seed] = summarise(s)
        scans += s
        print(f"seed {seed}: {len(s)} scans", file=sys.stderr)
    total = summarise(scans)
    seeds = list(per_seed)
    print("| flag (truth) | " + " | ".join(f"seed {s}" for s in seeds) + " | all: fired / positives | precision | recall |")
    print("| --- | " + " | ".join("---" for _ in seeds) + " | --- | --- | --- |")
    for flag, r in total.items():
        cells = [f"{per_seed[s][flag]['tp']}/{per_seed[s][flag]['fired']}/{per_seed[s][flag]['positives']}" for s in seeds]
        print(f"| `{flag}` | " + " | ".join(cells) + f" | {r['fired']} / {r['positives']} | {fmt(r['precision'])} | {fmt(r['recall'])} |")
    print("\n(cells: true positives / fired / positives)")
    for flag, r in total.items():
        if r["false_positives"] or r["misses"]:
            print(f"\n{flag}: false positives by what the patient carries {json.dumps(r['false_positives'], sort_keys=True)}")
            for m in r["misses"]:
                print(f"  missed: {m}")
    pa = collections.Counter(kind(s) for s in scans if "pulsatile_artifact" in s["fired"])
    print(f"\npulsatile_artifact fired on: {json.dumps(dict(pa), sort_keys=True)} (its own study: tools/flag_quality_study.py)")
    if a.json:
        Path(a.json).write_text(json.dumps(dict(per_seed=per_seed, total=total, scans=scans), indent=1))


if __name__ == "__main__":
    main()
