#!/usr/bin/env python3
"""Measured quality of the failure-mode flags on synthetic cohorts with known truth
(issue 7 item 5; the table in docs/flags.md "Calibration and measured quality").

  python tools/flag_quality_study.py --binary .build/release/mlung-audit --work /tmp/flag-study \\
      [--model models/demo-v2.safetensors] [--tune 21,22] [--report 31,32,33] [--patients 40] \\
      [--config templates/flags.yaml] [--json OUT.json]

For every seed it generates (once; kept under --work) a scanner-a cohort with
`--mix healthy=0.5,covid19=0.3,h1n1=0.1,cap=0.1 --artifact-rate 0.5 --truth-masks`, runs the
model (`mlung-audit run`), computes the flags (`flags --json --all`, with --config when given)
and reads the run back through `export` (which carries the stored flags). Truth per patient:
the manifest's label and artifact; "lesion beside the heart" from the truth masks (at least
50 mm2 of lesion within 20 mm of the heart, in plane, summed over slices).

The flags are computed with `pulsatile.onlyPositiveCalls: false` (laid over --config), so the
pulsatile rule is judged on every patient; the spec's rule (positive calls only) is the same
result restricted to patients the model called sick, since that setting only gates.

Per seed it prints, and with --json writes:
- the spec's setting (positive calls): artifact-caused false positives (healthy, artifact,
  called sick), the flag's precision / recall on them (any level, and `probable` only), its
  firing on COVID-19 patients called sick whose lesions lie beside the heart (the issue's
  <= 10%), on all diseased patients called sick and on artifact-free healthy patients called
  sick (false positives of other causes, which the flag must not claim);
- the detector on every patient (what a model that did call these scans sick would get):
  precision / recall against "healthy with an artifact", and its firing on all COVID-19
  patients with lesions beside the heart.
Tuning seeds are those the thresholds were chosen on; reporting seeds were never looked at
while tuning.
"""
import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlung_ref  # noqa: E402

MIX = "healthy=0.5,covid19=0.3,h1n1=0.1,cap=0.1"


def sh(args, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
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


def ratio(a, b):
    return None if b == 0 else a / b


def study_seed(a, seed):
    work = Path(a.work)
    cohort = work / f"cohort-{seed}"
    if not (cohort / "manifest.csv").exists():
        sh([a.binary, "synth", "--out", cohort, "--patients", a.patients, "--seed", seed, "--profile", "scanner-a",
            "--mix", MIX, "--artifact-rate", a.artifact_rate, "--id-prefix", "Q", "--truth-masks"])
    db = work / f"{Path(a.model).stem}-{seed}.sqlite"
    if not db.exists():
        sh([a.binary, "run", "--cohort", cohort / "manifest.csv", "--model", a.model, "--db", db, "--label", Path(a.model).stem])
    cfg = {}
    if a.config:
        text = Path(a.config).read_text()
        if a.config.endswith((".yaml", ".yml")):
            import yaml
            cfg = yaml.safe_load(text) or {}
        else:
            cfg = json.loads(text)
    cfg.setdefault("pulsatile", {})["onlyPositiveCalls"] = False
    cfg_path = work / "study-config.json"
    cfg_path.write_text(json.dumps(cfg))
    sh([a.binary, "flags", "--run", 1, "--db", db, "--json", "--all", "--recompute", "--config", cfg_path])
    export = json.loads(sh([a.binary, "export", "--run", 1, "--db", db]))
    rows = {r["patient_id"]: r for r in csv.DictReader(open(cohort / "manifest.csv"))}
    cache = work / f"beside-{seed}.json"
    beside = json.loads(cache.read_text()) if cache.exists() else {}
    out = []
    for p in export["patients"]:
        pid = p["patientID"]
        m = rows[pid]
        if p.get("predicted") is None:
            continue
        if m["label"] != "healthy" and pid not in beside:
            beside[pid] = beside_heart_mm2(cohort / "truth" / f"{pid}.safetensors", 380 / 256)
        flags = p.get("flags") or {}
        fired = {f["flag"]: f for f in flags.get("fired", [])}
        pa = fired.get("pulsatile_artifact")
        meas = (flags.get("measurements") or {}).get("pulsatile_artifact", {})
        out.append(dict(pid=pid, label=m["label"], artifact=m["artifact"] == "yes", predicted=p["predicted"],
                        fired=pa is not None, level=pa["level"] if pa else "", beside=beside.get(pid, 0.0), m=meas))
    cache.write_text(json.dumps(beside))
    return out


def summarise(pats):
    art_healthy = [p for p in pats if p["label"] == "healthy" and p["artifact"]]
    all_fired = [p for p in pats if p["fired"]]
    covid_beside_all = [p for p in pats if p["label"] == "covid19" and p["beside"] >= 50]
    proxy = dict(proxy_fired=len(all_fired), proxy_precision=ratio(sum(p in art_healthy for p in all_fired), len(all_fired)),
                 proxy_recall=ratio(sum(p["fired"] for p in art_healthy), len(art_healthy)),
                 proxy_covid_beside=len(covid_beside_all), proxy_covid_beside_fired=sum(p["fired"] for p in covid_beside_all),
                 proxy_clean_healthy=sum(1 for p in pats if p["label"] == "healthy" and not p["artifact"]),
                 proxy_clean_healthy_fired=sum(p["fired"] for p in pats if p["label"] == "healthy" and not p["artifact"]),
                 proxy_sick_artifact=sum(1 for p in pats if p["label"] != "healthy" and p["artifact"]),
                 proxy_sick_artifact_fired=sum(p["fired"] for p in pats if p["label"] != "healthy" and p["artifact"]))
    pats = [dict(p, fired=p["fired"] and p["predicted"] != 0, level=p["level"] if p["predicted"] != 0 else "") for p in pats]
    fp_art = [p for p in pats if p["label"] == "healthy" and p["artifact"] and p["predicted"] != 0]
    fired = [p for p in pats if p["fired"]]
    prob = [p for p in pats if p["level"] == "probable"]
    tp = [p for p in fired if p in fp_art]
    tpp = [p for p in prob if p in fp_art]
    covid_beside = [p for p in pats if p["label"] == "covid19" and p["predicted"] != 0 and p["beside"] >= 50]
    sick_pos = [p for p in pats if p["label"] != "healthy" and p["predicted"] != 0]
    clean_fp = [p for p in pats if p["label"] == "healthy" and not p["artifact"] and p["predicted"] != 0]
    return dict(**proxy,
        patients=len(pats), healthy_artifact=len(art_healthy), artifact_fp=len(fp_art), fired=len(fired),
        precision=ratio(len(tp), len(fired)), recall=ratio(len(tp), len(fp_art)),
        probable=len(prob), precision_probable=ratio(len(tpp), len(prob)), recall_probable=ratio(len(tpp), len(fp_art)),
        covid_beside_called=len(covid_beside), covid_beside_fired=sum(p["fired"] for p in covid_beside),
        sick_called=len(sick_pos), sick_fired=sum(p["fired"] for p in sick_pos),
        clean_healthy_fp=len(clean_fp), clean_healthy_fp_fired=sum(p["fired"] for p in clean_fp),
    )


def fmt(x):
    return "n/a" if x is None else f"{x:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/mlung-audit")
    ap.add_argument("--work", default="/tmp/flag-study")
    ap.add_argument("--model", default="models/demo-v2.safetensors")
    ap.add_argument("--tune", default="21,22")
    ap.add_argument("--report", default="31,32,33")
    ap.add_argument("--patients", type=int, default=40)
    ap.add_argument("--artifact-rate", default="0.5")
    ap.add_argument("--config", default="", help="threshold overrides, JSON (YAML needs PyYAML)")
    ap.add_argument("--json", default="")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    Path(a.work).mkdir(parents=True, exist_ok=True)
    result = {}
    for role, seeds in (("tune", a.tune), ("report", a.report)):
        allp = []
        for s in [int(x) for x in seeds.split(",") if x]:
            pats = study_seed(a, s)
            allp += pats
            result[f"{role} seed {s}"] = summarise(pats)
            if a.verbose:
                for p in pats:
                    if p["fired"] or (p["predicted"] != 0 and (p["artifact"] or p["label"] == "covid19")):
                        keys = ["f_band", "f_heart", "band_left_share", "motion_signs", "ggo_share_outside", "consolidation_cm3",
                                "edge_width_ratio", "doubled_share", "banding_ratio", "spread_ratio", "neighbour_dice"]
                        ms = " ".join(f"{k}={p['m'].get(k) if p['m'].get(k) is None else round(p['m'][k], 3)}" for k in keys)
                        print(f"  {s} {p['pid']} {p['label']} art={p['artifact']} pred={p['predicted']} beside={p['beside']:.0f} "
                              f"fired={p['level'] or '-'} {ms}", file=sys.stderr)
        if allp:
            result[f"{role} (all)"] = summarise(allp)
    cols = list(result)
    lines = ["| measure | " + " | ".join(cols) + " |", "| --- |" + " --- |" * len(cols)]
    def row(name, f):
        lines.append(f"| {name} | " + " | ".join(f(result[c]) for c in cols) + " |")
    lines.append("| **positive calls (the spec's rule)** |" + " |" * len(cols))
    row("patients (healthy with artifact)", lambda r: f"{r['patients']} ({r['healthy_artifact']})")
    row("artifact-caused false positives", lambda r: str(r["artifact_fp"]))
    row("`pulsatile_artifact` fired (probable)", lambda r: f"{r['fired']} ({r['probable']})")
    row("precision / recall, any level", lambda r: f"{fmt(r['precision'])} / {fmt(r['recall'])}")
    row("precision / recall, probable", lambda r: f"{fmt(r['precision_probable'])} / {fmt(r['recall_probable'])}")
    row("fired on COVID-19 called sick with lesions beside the heart", lambda r: f"{r['covid_beside_fired']} of {r['covid_beside_called']}")
    row("fired on any disease called sick", lambda r: f"{r['sick_fired']} of {r['sick_called']}")
    row("fired on artifact-free healthy called sick", lambda r: f"{r['clean_healthy_fp_fired']} of {r['clean_healthy_fp']}")
    row("**every patient**: fired", lambda r: str(r["proxy_fired"]))
    row("precision / recall vs healthy with artifact", lambda r: f"{fmt(r['proxy_precision'])} / {fmt(r['proxy_recall'])}")
    row("fired on COVID-19 with lesions beside the heart", lambda r: f"{r['proxy_covid_beside_fired']} of {r['proxy_covid_beside']}")
    row("fired on artifact-free healthy", lambda r: f"{r['proxy_clean_healthy_fired']} of {r['proxy_clean_healthy']}")
    row("fired on diseased with artifact", lambda r: f"{r['proxy_sick_artifact_fired']} of {r['proxy_sick_artifact']}")
    print("\n".join(lines))
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
