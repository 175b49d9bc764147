#!/usr/bin/env python3
"""Expected outputs of spec section 1 (steps 2-7) for the Swift preprocessing tests.

The reference is the project's Python implementation, tools/mlung_ref.py (SciPy's
binary_opening with border_value=0 and 8-connected label, torch's bilinear interpolate with
align_corners=False), run on:
  * synthetic slices made here with a seeded generator (a chest phantom with a table, a slice
    with no lung, tiny lung blobs below the size limit, a non-square slice with an even
    kernel and other settings, a slice smaller than the output so the resize upsamples);
  * real CT slices decoded from Tests/Fixtures/dicom (pydicom, same modality transform as
    tools/dicom_make_fixtures.py).

Output: Tests/Fixtures/preprocess/expected.safetensors with, per case `<id>`:
  input.<id>   I16 [rows, cols]   (synthetic cases only; real cases name their DICOM file)
  resized.<id> F32 [S, S]
  box.<id>     I32 [4]            inclusive row0, col0, row1, col1
  failed.<id>  U8 [1]
  area.<id>    I32 [3]            final-mask pixels: total, columns < cols//2, the rest
and Tests/Fixtures/preprocess/cases.json with each case's settings and source.

Run: /work/venv/bin/python tools/preprocess_make_fixtures.py
"""

import json
import os
import sys

import numpy as np
import pydicom
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import mlung_ref  # noqa: E402
from dicom_make_fixtures import hu_from_dataset  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Fixtures", "preprocess")
DICOM = os.path.join(ROOT, "Tests", "Fixtures", "dicom", "files")


def ellipse(rows, cols, cy, cx, ry, rx):
    y, x = np.mgrid[0:rows, 0:cols]
    return ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0


def phantom(rows, cols, rng, lungs=True, lung_scale=1.0, noise=20):
    """Air, a body ellipse, two lungs, a table touching the bottom border, noise (integers)."""
    hu = np.full((rows, cols), -1000.0)
    hu[ellipse(rows, cols, rows * 0.48, cols * 0.5, rows * 0.36, cols * 0.44)] = 40.0
    if lungs:
        for side in (0.32, 0.68):
            hu[ellipse(rows, cols, rows * 0.45, cols * side, rows * 0.22 * lung_scale, cols * 0.13 * lung_scale)] = -850.0
        hu[ellipse(rows, cols, rows * 0.40, cols * 0.5, rows * 0.05, cols * 0.03)] = -900.0  # trachea
    hu[int(rows * 0.9):, :] = -400.0  # table: not lung, but below -320? no: -400 < -320, touches border
    hu += rng.normal(0, noise, size=hu.shape)
    return np.clip(np.round(hu), -1024, 3071).astype(np.int16)


def main():
    rng = np.random.default_rng(20240611)
    os.makedirs(OUT, exist_ok=True)
    cases = []  # (id, input int16 or None, dicom file or None, settings dict)
    default = {}
    cases.append(("phantom_default", phantom(192, 192, rng), None, default))
    cases.append(("no_lung_crop_failed", phantom(96, 96, rng, lungs=False), None, {"input_size": 64}))
    blobs = phantom(128, 128, rng)
    for r, c in ((30, 40), (95, 60), (88, 100)):  # 9x9 air pockets: survive the opening, too small to keep
        blobs[r:r + 9, c:c + 9] = -950
    cases.append(("small_components_dropped", blobs, None, {"input_size": 48, "min_component_fraction": 0.01}))
    cases.append(("tiny_lungs_crop_failed", phantom(128, 128, rng, lung_scale=0.12), None,
                  {"input_size": 48, "min_component_fraction": 0.01}))
    cases.append(("nonsquare_even_kernel", phantom(150, 200, rng), None,
                  {"input_size": 80, "opening_kernel": 4, "crop_margin": 3, "lung_threshold_hu": -400,
                   "min_component_fraction": 0.004}))
    cases.append(("upsample_small_slice", phantom(40, 56, rng, noise=60), None,
                  {"input_size": 100, "opening_kernel": 3, "crop_margin": 2}))
    cases.append(("kernel_one_margin_zero", phantom(64, 64, rng), None,
                  {"input_size": 32, "opening_kernel": 1, "crop_margin": 0}))
    noise = np.clip(np.round(rng.normal(-500, 500, size=(72, 72))), -1024, 3071).astype(np.int16)
    cases.append(("random_noise", noise, None, {"input_size": 40, "opening_kernel": 2}))
    cases.append(("real_ct_small", None, "ct_small_explicit_le.dcm", {"input_size": 96}))
    cases.append(("real_ct_siemens", None, "ct_siemens_jpeg_lossless.dcm", default))
    cases.append(("real_ct_siemens_threshold", None, "ct_siemens_jpeg_lossless.dcm",
                  {"input_size": 64, "lung_threshold_hu": -200, "crop_margin": 25}))

    tensors = {}
    index = []
    for cid, inp, dicom_file, settings in cases:
        cfg = mlung_ref.Config(**settings)
        if inp is not None:
            hu = inp.astype(np.float32)
            tensors[f"input.{cid}"] = inp
        else:
            ds = pydicom.dcmread(os.path.join(DICOM, dicom_file))
            hu = hu_from_dataset(ds)[0][0]
        resized, box, failed = mlung_ref.preprocess_slice(hu, cfg)
        mask = mlung_ref.lung_mask(np.clip(hu, -1024, 3071).astype(np.float32), cfg)
        half = hu.shape[1] // 2
        area = [int(mask.sum()), int(mask[:, :half].sum()), int(mask[:, half:].sum())]
        tensors[f"resized.{cid}"] = np.ascontiguousarray(resized, dtype=np.float32)
        tensors[f"box.{cid}"] = np.array(box, dtype=np.int32)
        tensors[f"failed.{cid}"] = np.array([1 if failed else 0], dtype=np.uint8)
        tensors[f"area.{cid}"] = np.array(area, dtype=np.int32)
        full = mlung_ref.Config().to_dict()
        full.update(settings)
        index.append({"id": cid, "dicom": dicom_file, "shape": list(hu.shape),
                      "settings": {k: full[k] for k in ("input_size", "lung_threshold_hu", "opening_kernel",
                                                        "crop_margin", "min_component_fraction")},
                      "box": box, "failed": failed, "area": area})
        print(f"{cid:28s} {str(hu.shape):12s} box={box} failed={failed} area={area}")
    save_file(tensors, os.path.join(OUT, "expected.safetensors"))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"generator": "tools/preprocess_make_fixtures.py", "cases": index}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
