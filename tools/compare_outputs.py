#!/usr/bin/env python3
"""Largest differences between two model-run output files (ours vs. the reference).

Usage: compare_outputs.py OURS.safetensors EXPECTED.safetensors
Prints, per tensor, the largest absolute difference and the largest value; features are
also given relative to their largest magnitude. Exit 1 when a probability differs by 1e-4
or more, or the slice features by 1e-4 relative.
"""
import sys

import numpy as np
from safetensors.numpy import load_file

NAMES = ["lesion_probs", "class_probs", "slice_probs", "slice_features", "lesion_maps",
         "patient_probs", "patient_nonparam_probs"]


def main(ours_path, expected_path):
    ours, exp = load_file(ours_path), load_file(expected_path)
    bad = False
    for name in NAMES:
        a, b = ours[name].astype(np.float64), exp[name].astype(np.float64)
        if a.shape != b.shape:
            print(f"{name}: shape {a.shape} vs {b.shape}")
            bad = True
            continue
        d = float(np.max(np.abs(a - b)))
        scale = float(np.max(np.abs(b)))
        rel = d / max(scale, 1e-12)
        print(f"{name:24s} max|diff| {d:.3e}   max|value| {scale:.3e}   relative {rel:.3e}")
        bad |= (rel >= 1e-4) if name == "slice_features" else (d >= 1e-4)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
