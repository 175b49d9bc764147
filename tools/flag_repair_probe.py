#!/usr/bin/env python3
"""Why the pulsatile flag's repair counterfactual (`healthy_band_repaired`, docs/flags.md step 6)
fails on some artifact-caused false positives: a probe on the paired study cohorts of
`tools/flag_quality_study.py` (its --work directory and --json output), with the PyTorch reference
of the networks (`mlung_ref.py`, which reproduces the stored patient probabilities exactly).

  python tools/flag_repair_probe.py --work /tmp/flag-study --study-json result.json --role tune \\
      [--model models/demo-v2.safetensors] [--limit 12] [--variants]

For every artifact-caused false positive (a healthy artifact render called sick whose motion-free
twin is called healthy), and for the other positive calls of the issue's design when --variants
is given, it prints:
- the patient network's P(healthy) on the stored slice features with the twin's features put in
  on the slices whose truth heart covers at least 30 cm2 (the repair's heart-level slices): if
  that gives back the twin's answer, those slices carry everything the artifact changed in the
  call, and a repair of those slices that failed failed in the image it made, not in its reach;
- with --variants, the whole reference pipeline (crop boxes of the original slices, as the
  binary's repair does) on repaired images built from the truth masks (heart, lung, body):
  `R0` the binary's rule (lung within 30 mm of the heart clipped to the lung median +- 40 HU),
  `R45`/`R15` other bands, `rim5` R0 plus the heart's outer 5 mm clipped to its inner median
  +- 60 HU, `dark` only the undershoot raised, `clip80` a wider clip, and `twin30` the oracle
  (the twin's pixels within 30 mm of the heart). The counts at P(healthy) >= the gate show how
  far each variant separates artifact-caused calls from the rest.
Development tool only; nothing in the shipped program or its tests runs it.
"""
import argparse
import json
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flag_quality_study as fq  # noqa: E402
import mlung_ref  # noqa: E402
from synth_render_png import read_series  # noqa: E402

HEART_LEVEL_CM2 = 30.0


def volume(work, seed, render, pid):
    """One study patient's HU volume (ascending z) and its pixel spacing."""
    hu, ds = read_series(Path(work) / f"cohort-{seed}-a{render}" / pid)
    return hu, float(ds[0].PixelSpacing[0])


def stored(work, model_stem, seed, render, pid):
    c = sqlite3.connect(Path(work) / f"{model_stem}-{seed}-a{render}.sqlite")
    key, p0 = c.execute("select cache_key, p0 from patient_results where run_id = 1 and patient_id = ?", (pid,)).fetchone()
    feats = [np.frombuffer(r[0], dtype=np.float32) for r in
             c.execute("select features from slice_outputs where cache_key = ? order by slice_index", (key,))]
    return np.stack(feats), p0


class Probe:
    def __init__(self, a):
        torch.set_num_threads(1)
        self.a = a
        self.model = mlung_ref.build_model(mlung_ref.load_weights(a.model)).eval()
        self.stem = Path(a.model).stem

    def healthy(self, feats):
        with torch.no_grad():
            return float(torch.softmax(self.model.patient(torch.from_numpy(feats.copy())), 0)[0])

    def run(self, vol, boxes):
        S = self.model.cfg.input_size
        crops = []
        for k, b in enumerate(boxes):
            t = torch.from_numpy(np.ascontiguousarray(vol[k][b[0]:b[2] + 1, b[1]:b[3] + 1]))[None, None]
            crops.append(torch.nn.functional.interpolate(t, size=(S, S), mode="bilinear", align_corners=False)[0, 0].numpy())
        with torch.no_grad():
            return float(mlung_ref.run_model_loaded(self.model, np.stack(crops))["patient_probs"][0])

    def truth(self, seed, pid, n):
        return fq.truth_labels(Path(self.a.work) / f"cohort-{seed}-a1" / "truth" / f"{pid}.safetensors")[:n]

    def substitution(self, seed, pid):
        f1, p1 = stored(self.a.work, self.stem, seed, 1, pid)
        f0, p0 = stored(self.a.work, self.stem, seed, 0, pid)
        lab = self.truth(seed, pid, len(f1))
        px = 380 / 256
        level = ((lab & 4) != 0).reshape(len(lab), -1).sum(1) * px * px / 100 >= HEART_LEVEL_CM2
        mixed = f1.copy()
        mixed[level] = f0[level]
        return dict(artifact=p1, twin=p0, check=self.healthy(f1), twin_on_heart_level=self.healthy(mixed))

    def variants(self, seed, pid, render):
        v, px = volume(self.a.work, seed, render, pid)
        lab = self.truth(seed, pid, len(v))
        cfg = self.model.cfg
        boxes = [mlung_ref.preprocess_slice(v[k], cfg)[1] for k in range(len(v))]
        heart, lung, body = (lab & 4) != 0, (lab & 1) != 0, (lab & 32) != 0
        level = [k for k in range(len(v)) if heart[k].sum() * px * px / 100 >= HEART_LEVEL_CM2]
        out = dict(original=self.run(v, boxes))

        def repaired(band, clip, rim=0.0, dark_only=False):
            w = v.copy()
            for k in level:
                dist = ndimage.distance_transform_edt(~heart[k]) * px
                region = ~heart[k] & body[k] & ((v[k] < -100) | lung[k]) & (dist <= band)
                med = float(np.median(v[k][lung[k]]))
                w[k][region] = np.maximum(v[k][region], med - clip) if dark_only else np.clip(v[k][region], med - clip, med + clip)
                if rim > 0:
                    inside = ndimage.distance_transform_edt(heart[k]) * px
                    edge, core = heart[k] & (inside <= rim), heart[k] & (inside > rim)
                    hm = float(np.median(v[k][core]))
                    w[k][edge] = np.clip(v[k][edge], hm - 60, hm + 60)
            return self.run(w, boxes)
        out.update(R0=repaired(30, 40), R45=repaired(45, 40), R15=repaired(15, 40), rim5=repaired(30, 40, rim=5),
                   dark=repaired(30, 40, dark_only=True), clip80=repaired(30, 80))
        if render == 1:
            t, _ = volume(self.a.work, seed, 0, pid)
            w = v.copy()
            for k in level:
                near = body[k] & (ndimage.distance_transform_edt(~heart[k]) * px <= 30)
                w[k][near] = t[k][near]
            out["twin30"] = self.run(w, boxes)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="the study's --work directory (cohorts with truth masks, run stores)")
    ap.add_argument("--study-json", required=True, help="flag_quality_study.py --json output for those seeds")
    ap.add_argument("--role", default="tune")
    ap.add_argument("--model", default="models/demo-v2.safetensors")
    ap.add_argument("--gate", type=float, default=fq.DEFAULTS["minHealthyBandRepaired"])
    ap.add_argument("--variants", action="store_true", help="also rebuild repaired images (slow: about 7 s a scan per variant set)")
    ap.add_argument("--limit", type=int, default=12, help="scans per category for --variants")
    a = ap.parse_args()
    scans = json.loads(Path(a.study_json).read_text())["scans"][a.role]
    probe = Probe(a)
    groups = defaultdict(list)
    for s in scans:
        if s["predicted"] == 0 or not (s["label"] == "healthy" or s["render"] == 0):
            continue
        c = fq.category(s)
        if c == "artifact_fp":
            c = "artifact_fp, repair below gate" if fq.num(s["m"], "healthy_band_repaired") < a.gate else "artifact_fp, repair at gate"
            r = probe.substitution(s["seed"], s["pid"])
            print(f"{s['seed']} {s['pid']} {c}: P(healthy) artifact {r['artifact']:.2f} (reference {r['check']:.2f}), twin {r['twin']:.2f}, "
                  f"twin features on heart-level slices {r['twin_on_heart_level']:.2f}, binary's repair {fq.num(s['m'], 'healthy_band_repaired'):.2f}")
        groups[c].append(s)
    if not a.variants:
        return
    print(f"\nrepair variants on truth masks: scans with P(healthy) >= {a.gate}")
    for c, ss in sorted(groups.items()):
        ss = ss[:a.limit]
        counts = defaultdict(int)
        for s in ss:
            for k, p in probe.variants(s["seed"], s["pid"], s["render"]).items():
                counts[k] += p >= a.gate
            counts["binary"] += fq.num(s["m"], "healthy_band_repaired") >= a.gate
        print(f"{c} ({len(ss)}): " + ", ".join(f"{k} {n}" for k, n in counts.items()))


if __name__ == "__main__":
    main()
