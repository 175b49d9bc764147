#!/usr/bin/env python3
"""Train the two demo MLung-Sys models (demo-v1, demo-v2) on synthetic cohorts.

    /work/venv/bin/python tools/train_demo_models.py --binary .build/release/mlung-audit \
        --work /tmp/mlung-train --out models

1. Generates a training cohort with the built binary (`mlung-audit synth`, scanner-a, no
   pulsatile artifacts) and a held-out cohort (other seed, scanner-a, 30% artifacts) plus a
   new-scanner cohort (scanner-b).
2. Reads the training series with pydicom and applies the spec's section-1 preprocessing
   with tools/mlung_ref.py (cached under --work).
3. Trains the slice network (ResNet layout, lesion head, attention and coordinate maps) with
   the generator's slice-level lesion labels (lesion head) and the patient's class on lesion
   slices (class head, healthy elsewhere); then the patient network on the frozen slice
   network's window-averaged features.
4. Exports models/demo-v1.safetensors (small, short training, half the patients) and
   models/demo-v2.safetensors (wider, longer, all patients) in the spec's weight format.
5. Evaluates both with the Swift engine (`mlung-audit preprocess` + `model-run`) on the
   held-out cohorts and writes models/metrics.json.

Deterministic for the seeds given: torch is seeded, runs on --threads threads (default 2) and
the synthetic cohorts are deterministic. Runs in about 15-25 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pydicom
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlung_ref as ref  # noqa: E402

CLASSES = ["healthy", "covid19", "h1n1", "cap"]
# Slice-level lesion labels from the generator's slices.csv: lesion when at least this much
# lesion area (mm2) is on the slice, no lesion when none; slices in between (a few pixels of
# lesion at the model's 96 px input) are left out of the slice losses.
LESION_POSITIVE_MM2 = 100.0
IGNORE = -100
MIX = "healthy=0.4,covid19=0.2,h1n1=0.2,cap=0.2"

BASE = dict(input_size=96, window_width=1200, window_centers=[-600, -500], scales=[1, 2, 3, 4])
CONFIGS = {
    "demo-v1": dict(BASE, stem_width=16, stage_blocks=[1, 1, 1, 1], stage_widths=[8, 16, 32, 64], expansion=4,
                    reduced_dim=64, heads=4, refine_layers=1),
    "demo-v2": dict(BASE, stem_width=24, stage_blocks=[2, 2, 2, 1], stage_widths=[12, 24, 48, 96], expansion=4,
                    reduced_dim=96, heads=4, refine_layers=2),
}
# Training schedule per model: share of training patients, slice-net epochs, patient-net epochs.
# demo-v2 also trains on the healthy twins of the diseased training patients (see main).
SCHEDULE = {"demo-v1": dict(patients=0.5, epochs=2, patient_epochs=40, twins=False),
            "demo-v2": dict(patients=1.0, epochs=8, patient_epochs=30, twins=True)}


def run(cmd):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL)


def synth(binary, out: Path, patients, seed, profile, artifact_rate, prefix, mix=MIX):
    if (out / "manifest.csv").exists():
        return 0.0
    t = time.time()
    run([binary, "synth", "--out", out, "--patients", patients, "--seed", seed, "--profile", profile,
         "--mix", mix, "--artifact-rate", artifact_rate, "--id-prefix", prefix])
    return time.time() - t


def _prep_patient(args):
    d, size = args
    cfg = ref.Config(input_size=size)
    ds = [pydicom.dcmread(p) for p in sorted(Path(d).glob("*.dcm"))]
    ds.sort(key=lambda x: float(x.ImagePositionPatient[2]))
    out = []
    for x in ds:
        hu = ref.hu_from_raw(x.pixel_array, float(x.RescaleSlope), float(x.RescaleIntercept),
                             getattr(x, "PixelPaddingValue", None))
        out.append(ref.preprocess_slice(hu, cfg)[0])
    return np.stack(out).astype(np.float32)


def load_cohort(cohort: Path, cache: Path, size: int, threads: int):
    """Per patient: preprocessed HU [N,S,S], slice lesion labels [N], class label."""
    manifest = list(csv.DictReader(open(cohort / "manifest.csv")))
    slices = {}
    for r in csv.DictReader(open(cohort / "slices.csv")):
        area = float(r["lesion_area_mm2"])
        slices.setdefault(r["patient_id"], []).append(1 if area >= LESION_POSITIVE_MM2 else (0 if area == 0 else IGNORE))
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        hus = [z[f"hu_{i}"] for i in range(len(manifest))]
    else:
        with Pool(threads) as pool:
            hus = pool.map(_prep_patient, [(str(cohort / r["path"]), size) for r in manifest])
        np.savez(cache, **{f"hu_{i}": h for i, h in enumerate(hus)})
    out = []
    for r, hu in zip(manifest, hus):
        les = np.array(slices[r["patient_id"]], dtype=np.int64)
        assert len(les) == hu.shape[0], r["patient_id"]
        out.append(dict(id=r["patient_id"], hu=hu, lesion=les, label=CLASSES.index(r["label"])))
    return out


def normalized(hu: torch.Tensor, cfg: ref.Config, w: int) -> torch.Tensor:
    return ref.window_normalize(hu, cfg)[w]


def train_slice_net(cfg, patients, epochs, seed, log):
    torch.manual_seed(seed)
    model = ref.MLungSys(cfg)
    net = model.slice_net
    X = torch.from_numpy(np.concatenate([p["hu"] for p in patients]))
    les = torch.from_numpy(np.concatenate([p["lesion"] for p in patients]))
    cls = torch.from_numpy(np.concatenate([np.where(p["lesion"] == IGNORE, IGNORE, p["lesion"] * p["label"])
                                           for p in patients]))
    n = X.shape[0]
    counts = torch.bincount(cls[cls >= 0], minlength=4).float().clamp(min=1)
    w_cls = (counts.sum() / (4 * counts)).clamp(max=10)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    bs = 64
    steps = epochs * math.ceil(n / bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    g = torch.Generator().manual_seed(seed)
    net.train()
    step = 0
    for ep in range(epochs):
        perm = torch.randperm(n, generator=g)
        tot, t0 = 0.0, time.time()
        for b in range(0, n, bs):
            idx = perm[b:b + bs]
            wsel = int(torch.randint(len(cfg.window_centers), (1,), generator=g))
            x = normalized(X[idx], cfg, wsel)
            # Small shifts only: no intensity augmentation (scanner drift should show).
            dy, dx = (int(v) for v in torch.randint(-3, 4, (2,), generator=g))
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            out = net(x)
            if bool((les[idx] == IGNORE).all()):
                continue
            loss = F.cross_entropy(out["lesion_logits"], les[idx], ignore_index=IGNORE) + \
                F.cross_entropy(out["class_logits"], cls[idx], weight=w_cls, ignore_index=IGNORE)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            tot += float(loss.detach()) * len(idx)
        log(f"  slice epoch {ep + 1}/{epochs}: loss {tot / n:.4f} ({time.time() - t0:.0f} s)")
    net.eval()
    return model


@torch.inference_mode()
def features(model, hu: np.ndarray):
    cfg = model.cfg
    xs = ref.window_normalize(torch.from_numpy(hu), cfg)
    fs = [model.slice_net(xs[w])["f"] for w in range(xs.shape[0])]
    return torch.stack(fs, 0).mean(0)


def train_patient_net(model, patients, epochs, seed, log):
    # Tiny sequential ops: one thread is faster than two (and much faster on a busy machine).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(seed + 1)
    feats = [features(model, p["hu"]) for p in patients]
    labels = torch.tensor([p["label"] for p in patients])
    counts = torch.bincount(labels, minlength=4).float().clamp(min=1)
    w = counts.sum() / (4 * counts)
    pn = model.patient
    pn.train()
    opt = torch.optim.AdamW(pn.parameters(), lr=5e-4, weight_decay=1e-2)
    g = torch.Generator().manual_seed(seed + 2)
    for ep in range(epochs):
        perm = torch.randperm(len(feats), generator=g)
        tot = 0.0
        opt.zero_grad()
        for j, i in enumerate(perm.tolist()):
            f = feats[i] + 0.02 * torch.randn(feats[i].shape, generator=g) * feats[i].std()
            loss = F.cross_entropy(pn(f)[None], labels[i:i + 1], weight=w) / 8
            loss.backward()
            tot += float(loss.detach()) * 8
            if (j + 1) % 8 == 0 or j == len(perm) - 1:
                opt.step()
                opt.zero_grad()
        if (ep + 1) % 10 == 0:
            log(f"  patient epoch {ep + 1}/{epochs}: loss {tot / len(feats):.4f}")
    pn.eval()
    torch.set_num_threads(threads)


def export(model, cfg_dict, path: Path, name: str, version: str):
    cfg = ref.Config.from_dict(cfg_dict)
    ref.save_weights(path, model.named_weights(), cfg, model_name=name, model_version=version,
                     config_json=cfg_dict)


def evaluate_swift(binary, weights: Path, cohort: Path, work: Path):
    """patient_id -> (label, artifact, predicted class, patient probabilities) via the engine."""
    work.mkdir(parents=True, exist_ok=True)
    res = {}
    for r in csv.DictReader(open(cohort / "manifest.csv")):
        pre = work / f"{r['patient_id']}.pre.safetensors"
        out = work / f"{r['patient_id']}.{weights.stem}.out.safetensors"
        if not pre.exists():
            subprocess.run([str(binary), "preprocess", "--series", str(cohort / r["path"]), "--weights", str(weights),
                            "--output", str(pre)], check=True, stdout=subprocess.DEVNULL)
        if not out.exists():
            subprocess.run([str(binary), "model-run", "--weights", str(weights), "--input", str(pre), "--output", str(out),
                            "--threads", "2"], check=True, stdout=subprocess.DEVNULL)
        st = ref.read_safetensors(out)
        p = st.array("patient_probs")
        s = st.array("patient_nonparam_probs")
        tau = ref.load_weights(weights).cfg.nonparam_tau
        nonparam = 0 if s[0] >= np.float32(tau) else 1 + int(np.argmax(s[1:]))      # spec section 4
        lesion = st.array("lesion_probs")[:, 1]
        res[r["patient_id"]] = dict(label=CLASSES.index(r["label"]), artifact=r["artifact"] == "yes",
                                    pred=int(np.argmax(p)), probs=[round(float(v), 4) for v in p],
                                    nonparam_pred=nonparam, lesion_slices=int((lesion > 0.5).sum()))
    return res


def metrics(res):
    y = np.array([v["label"] for v in res.values()])
    p = np.array([v["pred"] for v in res.values()])
    art = np.array([v["artifact"] for v in res.values()])
    sick_t, sick_p = y != 0, p != 0
    m = dict(patients=int(len(y)), accuracy=round(float((y == p).mean()), 4),
             sensitivity=round(float(sick_p[sick_t].mean()), 4) if sick_t.any() else None,
             specificity=round(float((~sick_p[~sick_t]).mean()), 4) if (~sick_t).any() else None)
    m["recall"] = {c: round(float((p[y == i] == i).mean()), 4) for i, c in enumerate(CLASSES) if (y == i).any()}
    ha = (y == 0) & art
    m["healthy_with_artifact"] = int(ha.sum())
    m["healthy_with_artifact_called_sick"] = int((p[ha] != 0).sum())
    hn = (y == 0) & ~art
    m["healthy_without_artifact_called_sick"] = int((p[hn] != 0).sum())
    m["healthy_without_artifact"] = int(hn.sum())
    q = np.array([v["nonparam_pred"] for v in res.values()])
    ls = np.array([v["lesion_slices"] for v in res.values()])
    m["nonparam"] = dict(accuracy=round(float((y == q).mean()), 4),
                         sensitivity=round(float((q[sick_t] != 0).mean()), 4) if sick_t.any() else None,
                         specificity=round(float((q[~sick_t] == 0).mean()), 4) if (~sick_t).any() else None,
                         healthy_with_artifact_called_sick=int((q[ha] != 0).sum()),
                         healthy_without_artifact_called_sick=int((q[hn] != 0).sum()))
    m["mean_lesion_slices"] = dict(healthy_with_artifact=round(float(ls[ha].mean()), 2) if ha.any() else None,
                                   healthy_without_artifact=round(float(ls[hn].mean()), 2) if hn.any() else None)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=".build/release/mlung-audit")
    ap.add_argument("--work", default="/tmp/mlung-train")
    ap.add_argument("--out", default="models")
    ap.add_argument("--train-patients", type=int, default=120)
    ap.add_argument("--heldout-patients", type=int, default=60)
    ap.add_argument("--newscanner-patients", type=int, default=40)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--eval-only", action="store_true", help="evaluate the models already in --out")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    work, out = Path(a.work), Path(a.out)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    binary = Path(a.binary).resolve()
    logf = open(work / "train.log", "a")

    def log(s):
        print(s, flush=True)
        logf.write(s + "\n")
        logf.flush()

    timings = {}
    timings["synth_train_s"] = synth(binary, work / "train", a.train_patients, a.seed, "scanner-a", 0, "T")
    # Healthy twins: the same seed with an all-healthy mix renders every training patient
    # with the same anatomy, placement and noise but without disease, so a diseased slice and
    # its twin differ only by the lesion: the slice network has to learn the lesion, not the
    # patient.
    timings["synth_twins_s"] = synth(binary, work / "train-twins", a.train_patients, a.seed, "scanner-a", 0, "U",
                                     mix="healthy=1")
    timings["synth_heldout_s"] = synth(binary, work / "heldout", a.heldout_patients, a.seed + 1, "scanner-a", 0.3, "H")
    timings["synth_newscanner_s"] = synth(binary, work / "newscanner", a.newscanner_patients, a.seed + 2, "scanner-b", 0.3, "N")
    t = time.time()
    train = load_cohort(work / "train", work / "train-96.npz", 96, a.threads)
    twins = load_cohort(work / "train-twins", work / "train-twins-96.npz", 96, a.threads)
    twins = [tw for tw, p in zip(twins, train) if p["label"] != 0]
    timings["preprocess_train_s"] = time.time() - t
    log(f"training cohort: {len(train)} patients, {sum(p['hu'].shape[0] for p in train)} slices, "
        f"{sum(int((p['lesion'] == 1).sum()) for p in train)} lesion slices, "
        f"{sum(int((p['lesion'] == IGNORE).sum()) for p in train)} ignored")
    if a.eval_only:
        old = json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").exists() else {}
        timings.update({k: v for k, v in old.get("timings", {}).items() if k.startswith("train_")})
    for name, cfg_dict in ({} if a.eval_only else CONFIGS).items():
        sch = SCHEDULE[name]
        cfg = ref.Config.from_dict(cfg_dict)
        pts = train[: int(round(sch["patients"] * len(train)))]
        if sch["twins"]:
            pts = pts + twins
        t = time.time()
        log(f"{name}: {len(pts)} patients, {sch['epochs']} slice epochs, {sch['patient_epochs']} patient epochs")
        model = train_slice_net(cfg, pts, sch["epochs"], a.seed, log)
        train_patient_net(model, pts, sch["patient_epochs"], a.seed, log)
        export(model, cfg_dict, out / f"{name}.safetensors", name, name.split("-")[1])
        timings[f"train_{name}_s"] = round(time.time() - t, 1)
        log(f"{name}: trained in {time.time() - t:.0f} s -> {out / (name + '.safetensors')}")
    result = dict(seed=a.seed, train_patients=a.train_patients, configs=CONFIGS, schedule=SCHEDULE,
                  timings={k: round(v, 1) for k, v in timings.items()})
    if not a.skip_eval:
        result["metrics"], result["predictions"] = {}, {}
        for cohort in ["heldout", "newscanner"]:
            for name in CONFIGS:
                res = evaluate_swift(binary, out / f"{name}.safetensors", work / cohort, work / f"eval-{cohort}")
                result["metrics"][f"{name}/{cohort}"] = metrics(res)
                result["predictions"][f"{name}/{cohort}"] = res
                log(f"{name} on {cohort}: {json.dumps(metrics(res))}")
    (out / "metrics.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
