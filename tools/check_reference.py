#!/usr/bin/env python3
"""Sanity checks of the Python reference (tools/mlung_ref.py) against independent code.

  /work/venv/bin/python tools/check_reference.py

1. The backbone up to layer3 at the default widths equals torchvision.models.resnet50 with the
   same state dict (and the tensor names are torchvision's, with the prefix `backbone.`).
2. The refinement layer equals torch's scaled_dot_product_attention formulation.
3. Our hand-written safetensors reader agrees with the safetensors library (names, shapes,
   float32 values) on every fixture, and the digests are recomputed from the library's view.
4. Preprocessing on a synthetic full-field slice (outside air, table, body, lungs) gives a box
   around the lungs; an all-soft-tissue slice fails the crop.

Development tooling only. torchvision's PyPI wheels are CUDA builds whose compiled ops do not
load against the CPU torch wheel; only the pure-Python model code is needed here, so the two
ops that torchvision registers unconditionally at import are declared first.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlung_ref as ref  # noqa: E402
import make_model_fixtures as mk  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "model"


def import_torchvision():
    try:
        import torchvision  # noqa: F401
    except RuntimeError:
        lib = torch.library.Library("torchvision", "DEF")  # noqa: F841 (kept alive below)
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import_torchvision._lib = lib
        for k in [k for k in sys.modules if k.startswith("torchvision")]:
            del sys.modules[k]
    import torchvision
    return torchvision


@torch.no_grad()
def check_torchvision() -> bool:
    tv = import_torchvision()
    cfg = ref.Config()
    model = ref.MLungSys(cfg).eval()
    mk.random_init(model, torch.Generator().manual_seed(7))
    tvm = tv.models.resnet50(weights=None).eval()
    ours = {k[len("backbone."):]: v for k, v in model.slice_net.state_dict().items() if k.startswith("backbone.")}
    theirs = tvm.state_dict()
    same_names = sorted(k for k in ours if not k.startswith("layer4")) == \
        sorted(k for k in theirs if not (k.startswith("layer4") or k.startswith("fc")))
    shapes_ok = all(tuple(ours[k].shape) == tuple(theirs[k].shape) for k in ours if not k.startswith("layer4"))
    l4_diff = [k for k in ours if k.startswith("layer4") and tuple(ours[k].shape) != tuple(theirs[k].shape)]
    tvm.load_state_dict({**theirs, **{k: v for k, v in ours.items() if not k.startswith("layer4")}})
    torch.manual_seed(0)
    x = torch.randn(2, 3, 224, 224)
    t = tvm.maxpool(tvm.relu(tvm.bn1(tvm.conv1(x))))
    t = tvm.layer3(tvm.layer2(tvm.layer1(t)))
    F3 = model.slice_net.to_layer3(x)[3]
    d = float((F3 - t).abs().max())
    rel = d / float(t.abs().max())
    ok = same_names and shapes_ok and rel < 1e-5
    print(f"[torchvision] names equal (excl. layer4/fc): {same_names}; shapes equal: {shapes_ok}; "
          f"layer4 tensors with C3+4 inputs: {l4_diff}")
    print(f"[torchvision] F3 {list(F3.shape)}: max |ours - resnet50| = {d:.3g} (max |F3| {float(t.abs().max()):.3g},"
          f" relative {rel:.2g}) -> {'OK' if ok else 'FAIL'}")
    return ok


@torch.no_grad()
def check_refine() -> bool:
    g = torch.Generator().manual_seed(3)
    layer = ref.RefineLayer(40, 12, 3)
    for p in layer.parameters():
        p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    X = torch.randn(7, 40, generator=g)
    n, h, dh = 7, 3, 4
    Q = layer.q(X).view(n, h, dh).permute(1, 0, 2)
    K = layer.k(X).view(n, h, dh).permute(1, 0, 2)
    V = layer.v(X).view(n, h, dh).permute(1, 0, 2)
    y = X + layer.o(F.scaled_dot_product_attention(Q, K, V).permute(1, 0, 2).reshape(n, 12))
    d = float((y - layer(X)).abs().max())
    print(f"[refine] vs scaled_dot_product_attention: max diff {d:.3g} -> {'OK' if d < 1e-5 else 'FAIL'}")
    return d < 1e-5


def check_safetensors_reader() -> bool:
    from safetensors import safe_open
    ok = True
    files = sorted(FIXTURES.glob("*/weights.safetensors"))
    for f in files:
        st = ref.read_safetensors(f)
        h = {"slice": hashlib.sha256(), "patient": hashlib.sha256()}
        with safe_open(str(f), framework="pt") as lib:
            names = sorted(lib.keys())
            ok &= names == sorted(st.header)
            ok &= lib.metadata() == st.metadata
            for name in sorted((n for n in names if not n.endswith("num_batches_tracked")),
                               key=lambda s: s.encode()):
                t = lib.get_tensor(name)
                raw = (t.view(torch.int16) if t.dtype in (torch.float16, torch.bfloat16) else t).numpy().tobytes()
                dt = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}[t.dtype]
                grp = "patient" if name.startswith("patient.") else "slice"
                h[grp].update(name.encode() + b"\0" + dt.encode() + b"\0" +
                              ",".join(map(str, t.shape)).encode() + b"\0" + struct.pack("<Q", len(raw)) + raw)
                ok &= bool(np.array_equal(t.float().numpy(), st.array(name)))
        digests = ref.network_digests(f)
        same = digests == (h["slice"].hexdigest(), h["patient"].hexdigest())
        ok &= same
        print(f"[safetensors] {f.parent.name}: reader agrees with the library, digests recomputed equal: {same}")
    return ok


def check_preprocessing() -> bool:
    cfg = ref.Config()
    rng = np.random.default_rng(0)
    S = 512
    yy, xx = np.mgrid[0:S, 0:S]
    img = np.full((S, S), -1000.0) + 10 * rng.standard_normal((S, S))
    body = ((yy - 250) / 190.0) ** 2 + ((xx - 256) / 230.0) ** 2 < 1
    img[body] = 40
    img[(yy > 452) & (yy < 470)] = 200                     # table
    lungs = (((yy - 240) / 130.0) ** 2 + ((xx - 170) / 70.0) ** 2 < 1) | \
            (((yy - 240) / 130.0) ** 2 + ((xx - 342) / 70.0) ** 2 < 1)
    img[lungs] = -850
    raw = (img + 1024).astype(np.int16)
    hu = ref.hu_from_raw(raw, 1.0, -1024.0)
    out, box, failed = ref.preprocess_slice(hu, cfg)
    expect = [110 - 10, 100 - 10, 370 + 10, 412 + 10]
    close = all(abs(a - b) <= 2 for a, b in zip(box, expect))
    _, box2, failed2 = ref.preprocess_slice(np.full((64, 64), 40, np.float32), cfg)
    ok = close and not failed and failed2 and box2 == [0, 0, 63, 63] and out.shape == (224, 224)
    print(f"[preprocess] box {box} (expected about {expect}), failed {failed}; soft tissue only -> box {box2},"
          f" failed {failed2} -> {'OK' if ok else 'FAIL'}")
    return ok


def main() -> None:
    torch.set_num_threads(2)
    results = [check_torchvision(), check_refine(), check_safetensors_reader(), check_preprocessing()]
    print("all OK" if all(results) else "SOME CHECKS FAILED")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
