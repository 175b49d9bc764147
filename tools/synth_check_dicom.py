#!/usr/bin/env python3
"""Independent checks of a synthetic cohort written by `mlung-audit synth`.

  python tools/synth_check_dicom.py COHORT_DIR --binary .build/release/mlung-audit \
      --weights models/demo-v1.safetensors [--patients 3] [--files 3]

1. dciodvfy (Debian dicom3tools) on a few files per patient: prints every error and warning.
2. pydicom reads every slice of a few patients: tags against manifest.csv, slice order by
   ImagePositionPatient, and HU -> spec preprocessing with tools/mlung_ref.py (SciPy, torch),
   compared with the Swift engine's `mlung-audit preprocess` of the same series (DCMTK):
   crop boxes must be equal and resized HU equal to 1e-3, so both readers see the same pixels.
Exit status 1 when anything disagrees.
"""
import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlung_ref as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cohort")
    ap.add_argument("--binary", default=".build/release/mlung-audit")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--patients", type=int, default=3)
    ap.add_argument("--files", type=int, default=3)
    a = ap.parse_args()
    cohort = Path(a.cohort)
    rows = list(csv.DictReader(open(cohort / "manifest.csv")))[: a.patients]
    cfg = ref.load_weights(a.weights).cfg
    bad = 0
    for r in rows:
        files = sorted((cohort / r["path"]).glob("*.dcm"))
        for f in files[:: max(1, len(files) // a.files)][: a.files]:
            out = subprocess.run(["dciodvfy", str(f)], capture_output=True, text=True)
            msgs = [l for l in (out.stdout + out.stderr).splitlines() if l.startswith(("Error", "Warning"))]
            print(f"dciodvfy {f.relative_to(cohort)}: {len(msgs)} error(s)/warning(s)")
            for m in msgs:
                print("   ", m)
            bad += sum(m.startswith("Error") for m in msgs)
        ds = [pydicom.dcmread(p) for p in files]
        ds.sort(key=lambda x: float(x.ImagePositionPatient[2]))
        first = ds[0]
        checks = {"PatientID": r["patient_id"], "SeriesInstanceUID": r["series_uid"], "Modality": "CT"}
        for k, v in checks.items():
            if str(getattr(first, k)) != v:
                print(f"  {r['patient_id']}: {k} is {getattr(first, k)!r}, manifest says {v!r}")
                bad += 1
        hu = [ref.hu_from_raw(x.pixel_array, float(x.RescaleSlope), float(x.RescaleIntercept),
                              getattr(x, "PixelPaddingValue", None)) for x in ds]
        pre = [ref.preprocess_slice(h, cfg) for h in hu]
        with tempfile.TemporaryDirectory() as tmp:
            outp = Path(tmp) / "pre.safetensors"
            subprocess.run([a.binary, "preprocess", "--series", str(cohort / r["path"]), "--weights", a.weights,
                            "--output", str(outp)], check=True, stdout=subprocess.DEVNULL)
            st = ref.read_safetensors(outp)
            swift_hu = st.array("hu")
            swift_boxes = np.frombuffer(st.raw("crop_boxes"), dtype="<i4").reshape(-1, 4)
        py_boxes = np.array([p[1] for p in pre])
        py_hu = np.stack([p[0] for p in pre])
        same_boxes = swift_boxes.shape == py_boxes.shape and bool((swift_boxes == py_boxes).all())
        diff = float(np.abs(swift_hu - py_hu).max()) if swift_hu.shape == py_hu.shape else float("inf")
        print(f"{r['patient_id']} ({r['profile']}, {len(ds)} slices, {first.Manufacturer} {first.ManufacturerModelName}, "
              f"kernel {first.ConvolutionKernel}, {first.SliceThickness} mm): crop boxes equal {same_boxes}, "
              f"max |HU diff| {diff:.2e}")
        bad += (not same_boxes) + (diff > 1e-3)
    print("OK" if bad == 0 else f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
