#!/usr/bin/env python3
"""Times the full-size MLung-Sys slice network in the peers the Swift engine is compared with.

One window pass of the default-config slice network (ResNet-50 widths, S = 224): normalised
input [B, 3, 224, 224] -> lesion_logits, class_logits, f, L; the whole network, attention
map, coordinate maps and layer4 included (tools/mlung_ref.py SliceNet), random weights
initialised as in tools/make_model_fixtures.py.

Peers:
  pytorch-eager  torch.inference_mode, torch.set_num_threads(T), NCHW (channels-first)
  onnxruntime    the same module exported with torch.onnx.export (one static-shape model per
                 batch size, in a temporary directory); CPUExecutionProvider,
                 intra_op_num_threads=T, inter_op_num_threads=1, ORT_ENABLE_ALL

For every (peer, batch): --warmup untimed runs, then --runs timed runs, per round; rounds are
interleaved (round 1: every batch, every peer; round 2: ...). Prints JSON lines:
  {"check": "ort-vs-eager", "batch": B, "max_abs_diff": {...}}      once per batch
  {"peer": ..., "batch": B, "threads": T, "ms_per_slice": median over all timed runs, ...}
Development tooling only. Leaves OPENBLAS_CORETYPE and the like alone.

  /work/venv/bin/python tools/bench_peers.py --threads 2 --batch 1 32
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlung_ref as ref  # noqa: E402
import make_model_fixtures as mk  # noqa: E402

OUTPUT_NAMES = ["lesion_logits", "class_logits", "f", "L"]


class SliceWindowPass(torch.nn.Module):
    """SliceNet with a tuple output, for export."""

    def __init__(self, net: ref.SliceNet):
        super().__init__()
        self.net = net

    def forward(self, x):
        o = self.net(x)
        return o["lesion_logits"], o["class_logits"], o["f"], o["L"]


def build_module(seed: int = 0) -> SliceWindowPass:
    cfg = ref.Config()
    model = ref.MLungSys(cfg).eval()
    mk.random_init(model, torch.Generator().manual_seed(seed))
    return SliceWindowPass(model.slice_net).eval()


def make_input(B: int, seed: int = 0) -> torch.Tensor:
    cfg = ref.Config()
    hu = mk.synth_slices(B, cfg.input_size, np.random.default_rng(seed))
    return ref.window_normalize(torch.from_numpy(hu), cfg)[0].contiguous()     # first window centre


def export_onnx(module: torch.nn.Module, x: torch.Tensor, path: Path) -> str:
    """torch.onnx.export (dynamo exporter first, the TorchScript one as a fallback)."""
    try:
        torch.onnx.export(module, (x,), str(path), input_names=["x"], output_names=OUTPUT_NAMES,
                          dynamo=True, optimize=True, verbose=False)
        return "dynamo"
    except Exception as e:  # pragma: no cover - depends on the installed exporter
        print(json.dumps({"note": f"dynamo export failed ({type(e).__name__}: {e}); using dynamo=False"}),
              file=sys.stderr)
        torch.onnx.export(module, (x,), str(path), input_names=["x"], output_names=OUTPUT_NAMES,
                          dynamo=False, opset_version=17)
        return "torchscript"


def ort_session(path: Path, threads: int):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def time_runs(fn, warmup: int, runs: int):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--rounds", type=int, default=1, help="interleaved repetitions")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per (peer, batch, round)")
    ap.add_argument("--peers", nargs="+", default=["pytorch-eager", "onnxruntime"],
                    choices=["pytorch-eager", "onnxruntime"])
    args = ap.parse_args()

    module = build_module()
    inputs = {B: make_input(B) for B in args.batch}
    with tempfile.TemporaryDirectory(prefix="mlung-bench-") as tmp:
        sessions = {}
        for T in args.threads:
            torch.set_num_threads(T)
            for B in args.batch:
                x = inputs[B]
                with torch.inference_mode():
                    eager = [t.numpy() for t in module(x)]
                if "onnxruntime" in args.peers:
                    path = Path(tmp) / f"slice_b{B}.onnx"
                    if not path.exists():
                        how = export_onnx(module, x, path)
                    sess = ort_session(path, T)
                    sessions[(T, B)] = sess
                    ort_out = sess.run(OUTPUT_NAMES, {"x": x.numpy()})
                    diff = {n: float(np.abs(a - b).max()) for n, a, b in zip(OUTPUT_NAMES, eager, ort_out)}
                    scale = {n: float(np.abs(a).max()) for n, a in zip(OUTPUT_NAMES, eager)}
                    print(json.dumps({"check": "ort-vs-eager", "batch": B, "threads": T, "exporter": how,
                                      "max_abs_diff": diff, "max_abs_eager": scale}), flush=True)

            times = {(p, B): [] for p in args.peers for B in args.batch}
            for r in range(args.rounds):
                for B in args.batch:
                    x = inputs[B]
                    for peer in args.peers:
                        if peer == "pytorch-eager":
                            def fn():
                                with torch.inference_mode():
                                    module(x)
                        else:
                            sess, feed = sessions[(T, B)], {"x": x.numpy()}

                            def fn():
                                sess.run(OUTPUT_NAMES, feed)
                        times[(peer, B)] += time_runs(fn, args.warmup, args.runs)
            for B in args.batch:
                for peer in args.peers:
                    ts = times[(peer, B)]
                    print(json.dumps({"peer": peer, "batch": B, "threads": T,
                                      "ms_per_slice": round(1000 * statistics.median(ts) / B, 3),
                                      "ms_per_batch_median": round(1000 * statistics.median(ts), 2),
                                      "ms_per_batch_min": round(1000 * min(ts), 2),
                                      "timed_runs": len(ts), "rounds": args.rounds}), flush=True)


if __name__ == "__main__":
    main()
