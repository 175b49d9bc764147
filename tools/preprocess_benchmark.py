#!/usr/bin/env python3
"""Decode + preprocess speed: `mlung-audit preprocess` against pydicom + SciPy + torch.

Both sides do the same work on one core (taskset / sched_setaffinity to CPU 0, one thread):
read every file of a synthetic 512x512 CT series, decode to HU (spec section 1 step 1), and
run steps 2-7 (mask, openings, components, crop, bilinear resize to 224). The Swift side is
the whole CLI command (discovery, decoding, preprocessing, writing the safetensors output);
the Python side is pydicom's dcmread + pixel_array and tools/mlung_ref.py's preprocess_slice.
Rounds are interleaved (the VM is noisy); the medians are reported, and the two outputs are
compared (crop boxes exact, resized HU to 1e-3).

Usage (after `swift build -c release --scratch-path .build-dicom --product mlung-audit`):
  /work/venv/bin/python tools/preprocess_benchmark.py [--slices 64] [--rounds 3]
      [--syntax explicit|jpeg-ls|rle] [--binary .build-dicom/release/mlung-audit]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
import torch  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import mlung_ref  # noqa: E402
from dicom_make_fixtures import hu_from_dataset  # noqa: E402


def chest_slice(rng, k, n=512):
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)

    def ell(cy, cx, ry, rx):
        return ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1

    hu = np.full((n, n), -1000, np.float32)
    hu[ell(n * 0.5, n * 0.5, n * 0.36, n * 0.44)] = 40
    grow = 1 + 0.1 * np.sin(k / 7)
    hu[ell(n * 0.47, n * 0.32, n * 0.22 * grow, n * 0.12)] = -850
    hu[ell(n * 0.47, n * 0.68, n * 0.22 * grow, n * 0.12)] = -850
    hu[int(n * 0.9):, :] = -200
    hu += rng.normal(0, 15, size=hu.shape).astype(np.float32)
    return np.clip(np.round(hu), -1024, 3071).astype(np.int16)


def write_series(directory, slices, syntax):
    rng = np.random.default_rng(7)
    study, series = generate_uid(), generate_uid()
    os.makedirs(directory)
    for k in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.PatientID = "CT", "BENCH"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [0, 0, float(k)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.7, 0.7]
        ds.SliceThickness = 1
        ds.Rows = ds.Columns = 512
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        ds.PixelData = chest_slice(rng, k).astype("<i2").tobytes()
        path = os.path.join(directory, f"slice{k:04d}.dcm")
        ds.save_as(path, enforce_file_format=True)
        if syntax != "explicit":
            tool = {"jpeg-ls": ["dcmcjpls", "+el"], "rle": ["dcmcrle"]}[syntax]
            subprocess.run(tool + [path, path + ".tmp"], check=True)
            os.replace(path + ".tmp", path)


def make_weights(path):
    cfg = mlung_ref.Config(stem_width=8, stage_blocks=[1, 1, 1, 1], stage_widths=[4, 8, 16, 32],
                           reduced_dim=16, heads=4)  # preprocessing settings: the spec's defaults
    torch.manual_seed(0)
    model = mlung_ref.MLungSys(cfg)
    mlung_ref.save_weights(path, model.named_weights(), cfg)
    return cfg


def run_swift(binary, series, weights, out):
    start = time.perf_counter()
    subprocess.run(["taskset", "-c", "0", binary, "preprocess", "--series", series, "--weights", weights,
                    "--output", out], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_python(series, cfg):
    start = time.perf_counter()
    outs = []
    for name in sorted(os.listdir(series)):
        ds = pydicom.dcmread(os.path.join(series, name))
        hu = hu_from_dataset(ds)[0][0]
        outs.append(mlung_ref.preprocess_slice(hu, cfg))
    return time.perf_counter() - start, outs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slices", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--syntax", choices=["explicit", "jpeg-ls", "rle"], default="explicit")
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build-dicom", "release", "mlung-audit"))
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: swift build -c release --scratch-path .build-dicom --product mlung-audit")
    os.sched_setaffinity(0, {0})
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix="mlung-bench-")
    try:
        series = os.path.join(tmp, "series")
        write_series(series, args.slices, args.syntax)
        weights = os.path.join(tmp, "weights.safetensors")
        cfg = make_weights(weights)
        out = os.path.join(tmp, "out.safetensors")
        swift_t, py_t = [], []
        outs = None
        for _ in range(args.rounds):
            swift_t.append(run_swift(args.binary, series, weights, out))
            t, outs = run_python(series, cfg)
            py_t.append(t)
        # Same results?
        got = mlung_ref.read_safetensors(out)
        hu = np.frombuffer(got.raw("hu"), dtype="<f4").reshape(args.slices, cfg.input_size, cfg.input_size)
        boxes = np.frombuffer(got.raw("crop_boxes"), dtype="<i4").reshape(args.slices, 4)
        worst = max(float(np.abs(hu[i] - outs[i][0]).max()) for i in range(args.slices))
        same_boxes = all(list(boxes[i]) == outs[i][1] for i in range(args.slices))
        s, p = statistics.median(swift_t), statistics.median(py_t)
        print(f"{args.slices} slices 512x512 ({args.syntax}), one core, median of {args.rounds} interleaved rounds")
        print(f"  mlung-audit preprocess : {s:7.3f} s  {args.slices / s:8.1f} slices/s  (whole command)")
        print(f"  pydicom + SciPy + torch: {p:7.3f} s  {args.slices / p:8.1f} slices/s")
        print(f"  speed-up {p / s:.1f}x; crop boxes equal: {same_boxes}; max |resized diff| {worst:.2e} HU")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
