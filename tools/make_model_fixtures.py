#!/usr/bin/env python3
"""Writes the model fixtures of Tests/Fixtures/model from the reference (tools/mlung_ref.py).

Deterministic (fixed seeds, one thread) and rerunnable: running it again rewrites the same
bytes.  Development tooling only; the Swift tests read the files it writes.

  /work/venv/bin/python tools/make_model_fixtures.py                 # Tests/Fixtures/model
  /work/venv/bin/python tools/make_model_fixtures.py --full [OUT]    # full-size model, default /tmp/mlung-full
  /work/venv/bin/python tools/make_model_fixtures.py --check         # reload + rerun, compare

Each fixture: random weights (torchvision-like init) whose heads and patient layers are then
scaled on the fixture's own input so that logits are O(1), and whose lesion_head.bias[1] is
chosen so that a planned number of slices is predicted healthy, with every argmax decided by
a clear margin (so float32 rounding in another engine cannot flip a prediction).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlung_ref as ref  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "Tests" / "Fixtures" / "model"
REGEN_CMD = "/work/venv/bin/python tools/make_model_fixtures.py"

# name -> stored config (only these keys go into the file; the rest take the spec's defaults),
# number of slices, stored dtype, planned number of healthy slices, seed.
FIXTURES = {
    "tiny": dict(config=dict(input_size=64, stem_width=8, stage_blocks=[1, 1, 1, 1],
                             stage_widths=[4, 8, 16, 32], expansion=4, reduced_dim=16, heads=4,
                             scales=[1, 2, 3, 4], refine_layers=2),
                 N=9, dtype="F32", healthy=4, seed=101, num_batches_tracked=False),
    "odd": dict(config=dict(input_size=57, stem_width=8, stage_blocks=[2, 1, 2, 1],
                            stage_widths=[8, 8, 16, 16], expansion=2,
                            window_centers=[-600, -500, -400], window_width=1000,
                            reduced_dim=24, heads=3, scales=[1, 3], refine_layers=1),
                N=5, dtype="F16", healthy=2, seed=202, num_batches_tracked=False),
    "bf16": dict(config=dict(input_size=48, stem_width=16, stage_blocks=[1, 2, 1, 1],
                             stage_widths=[8, 8, 8, 16], expansion=4, reduced_dim=8, heads=2,
                             scales=[2], refine_layers=0, nonparam_tau=0.5),
                 # 2 of 4 healthy: H = 0.5 == nonparam_tau, so the ">=" of section 4 decides.
                 N=4, dtype="BF16", healthy=2, seed=303, num_batches_tracked=True),
    "wide": dict(config=dict(input_size=96, stem_width=16, stage_blocks=[2, 2, 2, 2],
                             stage_widths=[16, 16, 32, 32], expansion=4, reduced_dim=32, heads=4),
                 N=12, dtype="F32", healthy=5, seed=404, num_batches_tracked=False),
}

# Margins every argmax of a fixture must clear (far above float32 rounding).
MIN_SLICE_MARGIN = 2e-3        # top-1 minus top-2 of q, per slice
MIN_PATIENT_MARGIN = 2e-2      # top-1 minus top-2 of patient_probs
MIN_NONPARAM_MARGIN = 2e-3     # top-1 minus top-2 of s1..s3 (when H < tau)

TOLERANCE_NOTES = (
    "Suggested comparison: probabilities (lesion_probs, class_probs, slice_probs, patient_probs, "
    "patient_nonparam_probs) and lesion_maps with |a-b| <= 1e-4 absolute; slice_features and the "
    "debug.* tensors with |a-b| <= 1e-4 * max(1, max|expected|) per tensor (relative to the "
    "tensor's largest magnitude, since activations grow with depth); predictions exactly. "
    "float64_max_abs_diff records how far this float32 reference is from the same computation "
    "in float64 (a floor for any float32 engine). Every argmax in a fixture is decided by at "
    "least the recorded margins, so float32 rounding cannot flip a prediction. The weights are "
    "the values stored in weights.safetensors (for F16/BF16 files: as rounded by that dtype, "
    "converted to float32); debug.* are slice 0, window centre 0.")


# --------------------------------------------------------------------------------------
# Synthetic input: already cropped and resized HU slices
# --------------------------------------------------------------------------------------

def smooth_field(rng: np.random.Generator, S: int, sigma: float) -> np.ndarray:
    f = ndi.gaussian_filter(rng.standard_normal((S, S)), sigma, mode="reflect")
    return (f - f.mean()) / (f.std() + 1e-12)


def synth_slices(N: int, S: int, rng: np.random.Generator) -> np.ndarray:
    """N axial slices of a chest, S x S, in HU clipped to [-1024, 400]: air outside the
    body, soft tissue near 40, two lungs near -850 with vessels, ribs, and on some slices
    ground-glass or consolidated lesions. Lung size varies along the volume."""
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float64)
    yy = 2 * yy / (S - 1) - 1
    xx = 2 * xx / (S - 1) - 1
    out = np.empty((N, S, S), dtype=np.float32)
    for n in range(N):
        t = n / max(N - 1, 1)
        wob = 0.04 * smooth_field(rng, S, S / 6)
        body = (xx / 0.98) ** 2 + (yy / 0.9) ** 2 + wob < 1.0
        img = np.where(body, 40 + 25 * smooth_field(rng, S, S / 10), -1000 + 15 * rng.standard_normal((S, S)))
        ribs = body & ((xx / 0.98) ** 2 + (yy / 0.9) ** 2 + wob > 0.78) & (smooth_field(rng, S, S / 20) > 0.8)
        img = np.where(ribs, 380.0, img)
        size = 0.75 + 0.25 * math.sin(math.pi * (0.2 + 0.7 * t))
        lungs = np.zeros((S, S), dtype=bool)
        for side in (-1, 1):
            cx, cy = side * (0.42 + 0.03 * rng.standard_normal()), -0.05 + 0.03 * rng.standard_normal()
            a, b = 0.30 * size, 0.58 * size
            lungs |= ((xx - cx) / a) ** 2 + ((yy - cy) / b) ** 2 + 0.1 * smooth_field(rng, S, S / 8) < 1.0
        lung_hu = -850 + 45 * smooth_field(rng, S, S / 12) + 10 * rng.standard_normal((S, S))
        vessels = ndi.gaussian_filter((rng.random((S, S)) > 0.985).astype(float), 0.8)
        lung_hu = lung_hu + 900 * vessels / max(vessels.max(), 1e-9)
        if rng.random() < 0.6:                               # lesions on some slices
            for _ in range(rng.integers(1, 4)):
                ly, lx = np.nonzero(lungs)
                k = rng.integers(len(ly))
                r = (0.06 + 0.12 * rng.random()) * 2
                blob = ((yy - yy[ly[k], lx[k]]) ** 2 + (xx - xx[ly[k], lx[k]]) ** 2) / r ** 2
                level = -550.0 if rng.random() < 0.6 else -80.0
                lung_hu = np.where(blob < 1.0, level + 40 * smooth_field(rng, S, S / 16), lung_hu)
        img = np.where(lungs, lung_hu, img)
        out[n] = np.clip(img, -1024, 400).astype(np.float32)
    return out


# --------------------------------------------------------------------------------------
# Random initialisation
# --------------------------------------------------------------------------------------

def random_init(model: ref.MLungSys, gen: torch.Generator) -> None:
    """Convs: kaiming-normal, fan_out (torchvision). BatchNorm: weight U(0.5, 1.5), bias
    N(0, 0.1), running_mean N(0, 0.1), running_var U(0.5, 2.0). Linear: PyTorch's default
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the aggregation query N(0, 1)."""
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_out))
            elif isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1000, 100000, (1,), generator=gen)))
            elif isinstance(m, torch.nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.copy_((torch.rand(m.weight.shape, generator=gen) * 2 - 1) * bound)
                m.bias.copy_((torch.rand(m.bias.shape, generator=gen) * 2 - 1) * bound)
        model.patient.aggregate.query.copy_(torch.randn(model.patient.aggregate.query.shape, generator=gen))


# --------------------------------------------------------------------------------------
# Calibration on the fixture's own input
# --------------------------------------------------------------------------------------

@torch.no_grad()
def layer3_outputs(model: ref.MLungSys, hu: np.ndarray):
    xs = ref.window_normalize(torch.from_numpy(hu), model.cfg)
    return [model.slice_net.to_layer3(xs[w])[3] for w in range(xs.shape[0])]


@torch.no_grad()
def slice_outputs(model: ref.MLungSys, F3s):
    """Window-averaged p, r, f and q from cached F3 (the part that the heads change)."""
    outs = [model.slice_net.from_layer3(F3) for F3 in F3s]
    p = torch.stack([torch.softmax(o["lesion_logits"], 1) for o in outs]).mean(0).numpy()
    r = torch.stack([torch.softmax(o["class_logits"], 1) for o in outs]).mean(0).numpy()
    f = torch.stack([o["f"] for o in outs]).mean(0)
    return p, r, f, ref.slice_four_class(p, r), outs


def top2_margin(v: np.ndarray) -> np.ndarray:
    s = np.sort(v, axis=-1)
    return s[..., -1] - s[..., -2]


@torch.no_grad()
def calibrate_slice_heads(model: ref.MLungSys, hu: np.ndarray, healthy: int, gen: torch.Generator):
    net = model.slice_net
    F3s = layer3_outputs(model, hu)
    g3 = torch.cat([F3.mean(dim=(2, 3)) for F3 in F3s], 0)                # [W*N, C3]
    mu = g3.mean(0)
    mu_hat = mu / mu.norm()
    # Lesion prototypes: random directions tilted towards / away from the mean feature, so
    # that the cosine maps A and L spread over a useful range.
    z = torch.randn(2, g3.shape[1], generator=gen)
    z = z / z.norm(dim=1, keepdim=True)
    w = torch.stack([z[0] + 0.8 * mu_hat, z[1] - 0.3 * mu_hat])
    dl = g3 @ (w[1] - w[0])
    w = w * (2.5 / (dl.std() + 1e-12))
    net.lesion_head.weight.copy_(w)
    net.lesion_head.bias.copy_(-(g3 @ w.t()).mean(0))
    # Class head, on g4 computed with this lesion head.
    outs = [net.from_layer3(F3) for F3 in F3s]
    g4 = torch.cat([o["f"][:, g3.shape[1]:] for o in outs], 0)
    g4c = g4 - g4.mean(0)
    wc = torch.randn(4, g4.shape[1], generator=gen)
    wc = wc * (1.5 / ((g4c @ wc.t()).std(0).mean() + 1e-12))
    net.class_head.weight.copy_(wc)
    net.class_head.bias.copy_(-(g4 @ wc.t()).mean(0) + 0.3 * torch.randn(4, generator=gen))
    # lesion_head.bias[1]: plan the number of healthy slices, maximise the smallest margin.
    b0 = net.lesion_head.bias.clone()
    best = None
    for t in np.linspace(-5.0, 5.0, 201):
        net.lesion_head.bias.copy_(b0 + torch.tensor([0.0, float(t)]))
        _, _, _, q, _ = slice_outputs(model, F3s)
        pred = q.argmax(1)
        if int((pred == 0).sum()) != healthy or len(set(pred.tolist())) < 2:
            continue
        margin = float(top2_margin(q).min())
        if best is None or margin > best[0]:
            best = (margin, float(t))
    if best is None:
        return None
    net.lesion_head.bias.copy_(b0 + torch.tensor([0.0, best[1]]))
    return F3s


@torch.no_grad()
def calibrate_patient(model: ref.MLungSys, f: torch.Tensor, gen: torch.Generator) -> None:
    """Scales q/k (scores std ~1.5), o (residual ~0.3 of the features), the aggregation k
    (scores std ~1.5) and the classifier (logits std ~1.2) on the fixture's features."""
    pn = model.patient
    N = f.shape[0]
    parts = [f[a:b] for s in pn.scales for a, b in pn.parts(N, s)]
    xstd = float(f.std())
    for layer in pn.refine:
        d = layer.q.out_features
        dh = d // layer.heads
        sc = []
        for X in parts:
            n = X.shape[0]
            Q = layer.q(X).view(n, layer.heads, dh).transpose(0, 1)
            K = layer.k(X).view(n, layer.heads, dh).transpose(0, 1)
            sc.append((Q @ K.transpose(1, 2) / math.sqrt(dh)).flatten())
        sc = torch.cat(sc)
        a = math.sqrt(1.5 / (float((sc - sc.mean()).std()) + 1e-12)) if sc.numel() > 1 else 1.0
        for lin in (layer.q, layer.k):
            lin.weight.mul_(a)
            lin.bias.mul_(a)
        # Residual branch: a fraction of the feature spread.
        delta = torch.cat([layer(X) - X for X in parts])
        layer.o.weight.mul_(0.3 * xstd / (float(delta.std()) + 1e-12))
        layer.o.bias.mul_(0.3 * xstd / (float(delta.std()) + 1e-12))
        parts = [layer(X) for X in parts]
    ag = pn.aggregate
    d = ag.query.shape[1]
    sc = torch.cat([(ag.query @ ag.k(X).t() / math.sqrt(d)).flatten() for X in parts])
    if sc.numel() > 1:
        a = 1.5 / (float(sc.std()) + 1e-12)
        ag.k.weight.mul_(a)
        ag.k.bias.mul_(a)
    zs = torch.cat([ag(X) for X in parts])
    u = torch.relu(pn.fuse(zs))
    if float(u.abs().max()) == 0.0:                 # keep the classifier's input alive
        pn.fuse.bias.add_(0.5 * torch.rand(pn.fuse.bias.shape, generator=gen))
        u = torch.relu(pn.fuse(zs))
    logits = pn.classifier(u)
    a = 1.2 / (float(logits.std()) + 1e-12)
    pn.classifier.weight.mul_(a)
    pn.classifier.bias.mul_(a)


# --------------------------------------------------------------------------------------
# Writing one fixture
# --------------------------------------------------------------------------------------

def save_tensors(path: Path, arrays: dict, metadata=None) -> None:
    t = {}
    for k, v in arrays.items():
        v = np.asarray(v)
        if v.dtype.kind == "f":
            t[k] = ("F32", list(v.shape), v.astype("<f4").tobytes())
        else:
            v = np.atleast_1d(v)
            t[k] = ("I32", list(v.shape), v.astype("<i4").tobytes())
    ref.write_safetensors(path, t, metadata)


def output_stats(out: dict, cfg: ref.Config) -> dict:
    lp, cp, q = out["lesion_probs"], out["class_probs"], out["slice_probs"]
    s = out["patient_nonparam_probs"]
    H = float(s[0])
    return {
        "lesion_probs_max": [round(float(x), 4) for x in lp.max(1)],
        "class_probs_max": [round(float(x), 4) for x in cp.max(1)],
        "frac_lesion_max_below_0.95": float((lp.max(1) < 0.95).mean()),
        "frac_class_max_below_0.95": float((cp.max(1) < 0.95).mean()),
        "slice_pred": [int(x) for x in out["slice_pred"]],
        "healthy_slices": int((out["slice_pred"] == 0).sum()),
        "patient_probs": [round(float(x), 4) for x in out["patient_probs"]],
        "patient_pred": int(out["patient_pred"]),
        "patient_nonparam_probs": [round(float(x), 4) for x in s],
        "patient_nonparam_pred": int(out["patient_nonparam_pred"]),
        "lesion_map_range": [float(out["lesion_maps"].min()), float(out["lesion_maps"].max())],
        "min_slice_margin": float(top2_margin(q).min()),
        "patient_margin": float(top2_margin(out["patient_probs"])),
        "nonparam_margin": (float(top2_margin(s[1:])) if H < cfg.nonparam_tau else None),
    }


def acceptable(st: dict, cfg: ref.Config, healthy: int) -> bool:
    return (st["healthy_slices"] == healthy
            and len(set(st["slice_pred"])) >= 2
            and st["min_slice_margin"] >= MIN_SLICE_MARGIN
            and st["patient_margin"] >= MIN_PATIENT_MARGIN
            and (st["nonparam_margin"] is None or st["nonparam_margin"] >= MIN_NONPARAM_MARGIN)
            and st["frac_lesion_max_below_0.95"] >= 0.75
            and st["frac_class_max_below_0.95"] >= 0.75
            and max(st["patient_probs"]) < 0.95)


def build_fixture(name: str, spec: dict, out_dir: Path, model_name: str = None, tries: int = 40,
                  threads: int = 1) -> dict:
    cfg = ref.Config.from_dict(spec["config"])
    out_dir.mkdir(parents=True, exist_ok=True)
    wpath = out_dir / "weights.safetensors"
    for attempt in range(tries):
        seed = spec["seed"] * 1000 + attempt
        gen = torch.Generator().manual_seed(seed)
        rng = np.random.default_rng(seed)
        hu = synth_slices(spec["N"], cfg.input_size, rng)
        model = ref.MLungSys(cfg).eval()
        random_init(model, gen)
        F3s = calibrate_slice_heads(model, hu, spec["healthy"], gen)
        if F3s is None:
            print(f"  {name}: seed {seed}: no lesion bias gives {spec['healthy']} healthy slices; next seed")
            continue
        _, _, f, _, _ = slice_outputs(model, F3s)
        calibrate_patient(model, f, gen)
        tensors = model.named_weights(with_num_batches_tracked=spec["num_batches_tracked"])
        ref.save_weights(wpath, tensors, cfg, model_name=model_name or f"mlung-sys-fixture-{name}",
                         model_version=f"seed-{seed}", dtype=spec["dtype"], config_json=spec["config"])
        # The expected outputs come from the file as stored (F16/BF16 rounding included).
        out = ref.run_model(wpath, hu, threads=threads, debug=True)
        st = output_stats(out, cfg)
        if acceptable(st, cfg, spec["healthy"]):
            break
        print(f"  {name}: seed {seed} rejected: healthy {st['healthy_slices']}, margins "
              f"{st['min_slice_margin']:.2e}/{st['patient_margin']:.2e}/{st['nonparam_margin']}, "
              f"max-prob fractions {st['frac_lesion_max_below_0.95']:.2f}/{st['frac_class_max_below_0.95']:.2f}")
    else:
        raise SystemExit(f"{name}: no acceptable seed in {tries} tries")

    out64 = ref.run_model(wpath, hu, threads=threads, debug=True, dtype=torch.float64)
    f64 = {k: float(np.abs(out[k].astype(np.float64) - out64[k].astype(np.float64)).max())
           for k in ref.OUTPUT_FLOAT_NAMES}
    f64.update({k: float(np.abs(out["debug"][k].astype(np.float64) - out64["debug"][k]).max())
                for k in out["debug"]})

    save_tensors(out_dir / "input.safetensors", {"hu": hu}, {"generator": "tools/make_model_fixtures.py"})
    expected = {k: out[k] for k in ref.OUTPUT_FLOAT_NAMES}
    expected.update({k: np.atleast_1d(out[k]).astype(np.int32) for k in ref.OUTPUT_INT_NAMES})
    expected.update(out["debug"])
    save_tensors(out_dir / "expected.safetensors", expected, {"generator": "tools/make_model_fixtures.py"})

    slice_hex, patient_hex = ref.network_digests(wpath)
    meta = {
        "name": name,
        "generator": REGEN_CMD,
        "seed": seed,
        "weights_dtype": spec["dtype"],
        "has_num_batches_tracked": spec["num_batches_tracked"],
        "weights_sha256": ref.file_sha256(wpath),
        "slice_network_digest": slice_hex,
        "patient_network_digest": patient_hex,
        "stored_config": spec["config"],
        "config": cfg.to_dict(),
        "N": spec["N"],
        "input_size": cfg.input_size,
        "layer3_size": list(out["lesion_maps"].shape[1:]),
        "feature_dim": cfg.feature_dim,
        "tensor_count": len(ref.expected_shapes(cfg)),
        "outputs": {k: list(np.atleast_1d(expected[k]).shape) for k in expected},
        "stats": st,
        "float64_max_abs_diff": f64,
        "tolerance_notes": TOLERANCE_NOTES,
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


# --------------------------------------------------------------------------------------
# Malformed weight files
# --------------------------------------------------------------------------------------

def write_bad_files(tiny_weights: Path, bad_dir: Path) -> dict:
    """Each file is the tiny fixture's weight file with one defect. To keep them small the
    tensors are re-stored as F16 (a valid dtype), except where the defect is the point."""
    if bad_dir.exists():
        shutil.rmtree(bad_dir)
    bad_dir.mkdir(parents=True)
    st = ref.read_safetensors(tiny_weights)
    meta = dict(st.metadata)

    def f16(name):
        a = st.array(name)
        return ("F16", list(a.shape), a.astype("<f2").tobytes())

    base = {n: f16(n) for n in st.header}
    notes = {}

    def put(fname, tensors, metadata, note):
        ref.write_safetensors(bad_dir / fname, tensors, metadata)
        notes[fname] = note

    # A valid F16 copy, the source of the byte-level defects below.
    ok = bad_dir / "_valid.safetensors"
    ref.write_safetensors(ok, base, meta)
    buf = ok.read_bytes()
    (n,) = np.frombuffer(buf[:8], dtype="<u8")
    n = int(n)
    ok.unlink()

    # Defects that stop a reader before any tensor data is needed keep only a little of it.
    (bad_dir / "truncated.safetensors").write_bytes(buf[:8 + n + 1000])
    notes["truncated.safetensors"] = ("file cut 1000 bytes into the data section: the later tensors' "
                                      "data_offsets are past the end")
    (bad_dir / "bad_header_len.safetensors").write_bytes(np.array([n + 4096], "<u8").tobytes() + buf[8:8 + n])
    notes["bad_header_len.safetensors"] = "header length (first 8 bytes) is 4096 more than the file holds after it"

    hdr = json.loads(buf[8:8 + n])
    last = max((k for k in hdr if k != "__metadata__"), key=lambda k: hdr[k]["data_offsets"][1])
    b, e = hdr[last]["data_offsets"]
    hdr[last]["data_offsets"] = [b + 64, e + 64]
    hb = json.dumps(hdr, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    (bad_dir / "bad_offsets.safetensors").write_bytes(np.array([len(hb)], "<u8").tobytes() + hb + buf[8 + n:])
    notes["bad_offsets.safetensors"] = f"tensor '{last}' has data_offsets past the end of the data section"

    put("wrong_format.safetensors", base, {**meta, "format": "something-else"},
        "valid safetensors, __metadata__ format = 'something-else'")
    put("missing_tensor.safetensors", {k: v for k, v in base.items() if k != "backbone.layer2.0.conv2.weight"},
        meta, "tensor 'backbone.layer2.0.conv2.weight' absent")
    extra = dict(base)
    extra["backbone.fc.weight"] = ("F16", [4, 128], np.zeros((4, 128), "<f2").tobytes())
    put("extra_tensor.safetensors", extra, meta, "extra tensor 'backbone.fc.weight' [4,128]")
    wrong = dict(base)
    w = st.array("lesion_head.weight")
    wrong["lesion_head.weight"] = ("F16", [3, w.shape[1]], np.zeros((3, w.shape[1]), "<f2").tobytes())
    put("wrong_shape.safetensors", wrong, meta, f"'lesion_head.weight' is [3,{w.shape[1]}], expected [2,{w.shape[1]}]")
    bad_dt = dict(base)
    a = st.array("class_head.bias")
    bad_dt["class_head.bias"] = ("I32", list(a.shape), np.round(a).astype("<i4").tobytes())
    put("bad_dtype.safetensors", bad_dt, meta, "'class_head.bias' stored as I32")

    # Garbled JSON (its closing brace replaced by a space; the length field stays right),
    # followed by only a little of the data: nothing past the header can be read anyway.
    garbled = bytearray(buf[8:8 + n])
    close = len(bytes(garbled).rstrip(b" ")) - 1
    assert garbled[close:close + 1] == b"}"
    garbled[close:close + 1] = b" "
    (bad_dir / "bad_json.safetensors").write_bytes(buf[:8] + bytes(garbled) + buf[8 + n:8 + n + 1000])
    notes["bad_json.safetensors"] = "header JSON is garbled (closing brace replaced by a space); data cut short"

    # Every one of them must be rejected by the reference loader.
    result = {}
    for fname in sorted(notes):
        try:
            ref.load_weights(bad_dir / fname)
            raise SystemExit(f"bad/{fname} was accepted by the reference loader")
        except ref.WeightFileError as err:
            result[fname] = {"defect": notes[fname], "reference_error": str(err)}
    (bad_dir / "meta.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


# --------------------------------------------------------------------------------------
# Non-parametric edge cases (section 4) as plain JSON
# --------------------------------------------------------------------------------------

def write_nonparam_cases(path: Path) -> None:
    cases = [
        ("mixed", [[0.7, 0.1, 0.1, 0.1], [0.2, 0.5, 0.2, 0.1], [0.1, 0.2, 0.6, 0.1]], 0.95),
        ("all_healthy_default_m", [[0.9, 0.05, 0.03, 0.02], [0.6, 0.2, 0.1, 0.1]], 0.95),
        ("none_healthy", [[0.1, 0.6, 0.2, 0.1], [0.2, 0.1, 0.3, 0.4], [0.3, 0.4, 0.2, 0.1]], 0.95),
        ("h_equals_tau", [[0.8, 0.1, 0.05, 0.05], [0.1, 0.2, 0.3, 0.4]], 0.5),
        ("slice_tie_goes_to_lowest", [[0.4, 0.4, 0.1, 0.1], [0.2, 0.4, 0.4, 0.0]], 0.95),
        ("score_tie_goes_to_lowest", [[0.0, 0.5, 0.5, 0.0]], 0.95),
    ]
    out = []
    for name, q, tau in cases:
        q = np.asarray(q, dtype=np.float32)
        s, p = ref.assess_nonparametric(q, tau)
        out.append({"name": name, "q": q.tolist(), "nonparam_tau": tau,
                    "slice_pred": [int(x) for x in q.argmax(1)],
                    "scores": [float(x) for x in s], "pred": p})
    path.write_text(json.dumps(out, indent=2) + "\n")


README = """# Model fixtures

Generated by `tools/make_model_fixtures.py` from the Python reference `tools/mlung_ref.py`
(an independent PyTorch implementation of `mlung-sys.md`). Regenerate (deterministic, same
bytes) with:

    /work/venv/bin/pip install -r tools/requirements.txt   # once, into any venv
    /work/venv/bin/python tools/make_model_fixtures.py
    /work/venv/bin/python tools/make_model_fixtures.py --check   # reload + rerun, compare

Python is never needed to build or test the Swift package: these files are committed.

Each model directory holds

- `weights.safetensors`: an MLung-Sys weight file (metadata format `mlung-sys`, version 1;
  `config` stores only the keys listed below, the rest take the spec's defaults).
- `input.safetensors`: `hu` [N, S, S] float32, already cropped and resized HU slices
  (spec section 1 steps 8-9 still to apply).
- `expected.safetensors`: F32 `lesion_probs` [N,2], `class_probs` [N,4], `slice_probs` [N,4]
  (q), `slice_features` [N,D], `lesion_maps` [N,H3,W3], `patient_probs` [4],
  `patient_nonparam_probs` [4] (s0..s3); I32 `slice_pred` [N], `patient_pred` [1],
  `patient_nonparam_pred` [1]; and for slice 0 at the first window centre: `debug.x`
  [3,S,S], `debug.stem` (after maxpool), `debug.layer1`, `debug.layer2`, `debug.F3`,
  `debug.lesion_logits` [2], `debug.A` [H3,W3], `debug.F4`, `debug.class_logits` [4].
- `meta.json`: file SHA-256, slice/patient network digests, the config, N, output shapes,
  statistics (max softmax, predictions, argmax margins), float32-vs-float64 differences of
  the reference, and tolerance notes.

Network digests: SHA-256 over the tensors of a group sorted by byte-wise UTF-8 name, each
contributing `name 0x00 dtype 0x00 shape(decimal, comma-joined) 0x00 u64le(byte length)
raw-bytes`, as stored in the file; `*num_batches_tracked` excluded; the slice group is every
name not starting with `patient.`, the patient group every name starting with it.

| fixture | S | widths / blocks / expansion | windows | patient (d, h, scales, layers) | N | dtype | notes |
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}

`bad/` holds malformed weight files derived from `tiny` (tensors re-stored as F16 to keep
them small); `bad/meta.json` lists each defect and the reference loader's message:

{bad}

A full-size default-config model (ResNet-50 widths, S = 224, default patient network, N = 8,
about 170 MB, not committed) with the same layout: `{cmd} --full /tmp/mlung-full`.

`nonparam_cases.json`: hand-made q matrices with the section 4 scores and predictions
(all-healthy default m_c = 1/3, H == tau, ties).
"""


def write_readme(metas: dict, bad: dict) -> None:
    rows = []
    for name, m in metas.items():
        c = m["config"]
        notes = []
        st = m["stats"]
        notes.append(f"{st['healthy_slices']} of {m['N']} slices healthy; nonparam pred {st['patient_nonparam_pred']}")
        if c["nonparam_tau"] != ref.Config().nonparam_tau:
            notes.append(f"nonparam_tau {c['nonparam_tau']:g}: H = {st['patient_nonparam_probs'][0]:g} "
                         f"{'>=' if st['patient_nonparam_probs'][0] >= c['nonparam_tau'] else '<'} tau")
        if m["has_num_batches_tracked"]:
            notes.append("has I64 num_batches_tracked")
        rows.append(f"| `{name}` | {c['input_size']} | {c['stage_widths']} / {c['stage_blocks']} / {c['expansion']}"
                    f" (stem {c['stem_width']}) | {c['window_centers']} w {c['window_width']:g} | "
                    f"{c['reduced_dim']}, {c['heads']}, {c['scales']}, {c['refine_layers']} | {m['N']} | "
                    f"{m['weights_dtype']} | {'; '.join(notes)} |")
    bad_lines = "\n".join(f"- `{k}`: {v['defect']}" for k, v in bad.items())
    (OUT_DIR / "README.md").write_text(README.replace("{rows}", "\n".join(rows)).replace("{bad}", bad_lines)
                                       .replace("{cmd}", REGEN_CMD))


# --------------------------------------------------------------------------------------
# Checks and entry points
# --------------------------------------------------------------------------------------

def check(dirs) -> bool:
    """Reloads every fixture, reruns the reference and compares bit for bit."""
    ok = True
    for d in dirs:
        d = Path(d)
        meta = json.loads((d / "meta.json").read_text())
        hu = ref.read_safetensors(d / "input.safetensors").array("hu")
        exp = ref.read_safetensors(d / "expected.safetensors")
        out = ref.run_model(d / "weights.safetensors", hu, threads=1, debug=True)
        worst = 0.0
        for k in ref.OUTPUT_FLOAT_NAMES:
            worst = max(worst, float(np.abs(exp.array(k) - out[k]).max()))
        for k in out["debug"]:
            worst = max(worst, float(np.abs(exp.array(k) - out["debug"][k]).max()))
        same_int = all(np.array_equal(exp.array(k), np.atleast_1d(out[k])) for k in ref.OUTPUT_INT_NAMES)
        digests = ref.network_digests(d / "weights.safetensors")
        same_dig = (digests == (meta["slice_network_digest"], meta["patient_network_digest"])
                    and ref.file_sha256(d / "weights.safetensors") == meta["weights_sha256"])
        good = worst == 0.0 and same_int and same_dig
        ok &= good
        print(f"{d.name}: max |rerun - expected| = {worst:.3g}, predictions equal {same_int}, "
              f"digests equal {same_dig}: {'OK' if good else 'MISMATCH'}")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", nargs="?", const="/tmp/mlung-full", metavar="OUT_DIR",
                    help="write a full-size default-config model (N=8) to OUT_DIR instead")
    ap.add_argument("--check", action="store_true", help="reload every fixture and compare a rerun")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for --full (fixtures use 1)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    if args.check:
        dirs = [OUT_DIR / n for n in FIXTURES]
        sys.exit(0 if check(dirs) else 1)

    if args.full:
        spec = dict(config={}, N=8, dtype="F32", healthy=3, seed=505, num_batches_tracked=False)
        meta = build_fixture("full", spec, Path(args.full), model_name="mlung-sys-full-random", tries=4,
                             threads=args.threads)
        print(json.dumps(meta["stats"]))
        print(f"wrote {args.full}")
        return

    metas = {}
    for name, spec in FIXTURES.items():
        print(f"{name} ...")
        metas[name] = build_fixture(name, spec, OUT_DIR / name)
        st = metas[name]["stats"]
        print(f"  preds {st['slice_pred']} patient {st['patient_pred']} nonparam {st['patient_nonparam_pred']} "
              f"margins {st['min_slice_margin']:.3g}/{st['patient_margin']:.3g}/{st['nonparam_margin']}")
    bad = write_bad_files(OUT_DIR / "tiny" / "weights.safetensors", OUT_DIR / "bad")
    for k, v in bad.items():
        print(f"  bad/{k}: {v['reference_error']}")
    write_nonparam_cases(OUT_DIR / "nonparam_cases.json")
    write_readme(metas, bad)


if __name__ == "__main__":
    main()
