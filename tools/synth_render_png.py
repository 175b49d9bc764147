#!/usr/bin/env python3
"""Render slices of synthetic (or any) CT series to PNG, lung window, for looking at them.

  python tools/synth_render_png.py COHORT_DIR OUT_DIR [--patients P0001,P0002] [--slices 0.35,0.6,0.8]
                                   [--truth] [--crop]

For each patient (default: the first of each label, plus the first artifact case) it writes
one PNG strip: the slices at the given fractions of the series (ascending z), lung window
(centre -600, width 1500). --truth outlines lesion (red) and artifact (yellow) voxels from
COHORT_DIR/truth/<id>.safetensors (synth --truth-masks); --crop draws the spec's crop box
computed by tools/mlung_ref.py (green).
"""
import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlung_ref  # noqa: E402


def read_series(d: Path):
    """HU volume [N, R, C] sorted by z ascending (spec order), and the datasets."""
    ds = [pydicom.dcmread(p) for p in sorted(d.glob("*.dcm"))]
    ds.sort(key=lambda x: float(x.ImagePositionPatient[2]))
    vols = []
    for x in ds:
        raw = x.pixel_array
        pad = getattr(x, "PixelPaddingValue", None)
        vols.append(mlung_ref.hu_from_raw(raw, float(x.RescaleSlope), float(x.RescaleIntercept), pad))
    return np.stack(vols), ds


def window(hu, c=-600.0, w=1500.0):
    return (np.clip((hu - (c - w / 2)) / w, 0, 1) * 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cohort")
    ap.add_argument("out")
    ap.add_argument("--patients", default="")
    ap.add_argument("--slices", default="0.3,0.5,0.65,0.8")
    ap.add_argument("--truth", action="store_true")
    ap.add_argument("--crop", action="store_true")
    a = ap.parse_args()
    cohort, out = Path(a.cohort), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(cohort / "manifest.csv")))
    if a.patients:
        chosen = [r for r in rows if r["patient_id"] in a.patients.split(",")]
    else:
        chosen, seen = [], set()
        for r in rows:
            key = r["label"] + ("+artifact" if r.get("artifact") == "yes" else "")
            if key not in seen:
                seen.add(key)
                chosen.append(r)
    fracs = [float(f) for f in a.slices.split(",")]
    cfg = mlung_ref.Config()
    for r in chosen:
        hu, ds = read_series(cohort / r["path"])
        truth = None
        if a.truth and (cohort / "truth" / f"{r['patient_id']}.safetensors").exists():
            st = mlung_ref.read_safetensors(cohort / "truth" / f"{r['patient_id']}.safetensors")
            info = st.header["labels"]
            truth = np.frombuffer(st.raw("labels"), dtype=np.uint8).reshape(info["shape"])
        tiles = []
        for f in fracs:
            k = min(len(ds) - 1, max(0, int(round(f * (len(ds) - 1)))))
            img = Image.fromarray(window(hu[k])).convert("RGB")
            dr = ImageDraw.Draw(img)
            if truth is not None:
                px = np.array(img)
                for bit, color in ((2, (255, 40, 40)), (8, (255, 220, 0))):
                    m = (truth[k] & bit) != 0
                    edge = m & ~(np.roll(m, 1, 0) & np.roll(m, -1, 0) & np.roll(m, 1, 1) & np.roll(m, -1, 1))
                    px[edge] = color
                img = Image.fromarray(px)
                dr = ImageDraw.Draw(img)
            if a.crop:
                _, box, failed = mlung_ref.preprocess_slice(hu[k], cfg)
                dr.rectangle([box[1], box[0], box[3], box[2]], outline=(0, 255, 0) if not failed else (255, 0, 255))
            dr.text((4, 4), f"k={k} z={float(ds[k].ImagePositionPatient[2]):.0f}", fill=(255, 255, 0))
            tiles.append(img)
        w = sum(t.width for t in tiles)
        strip = Image.new("RGB", (w, tiles[0].height))
        x = 0
        for t in tiles:
            strip.paste(t, (x, 0))
            x += t.width
        name = f"{r['patient_id']}_{r['label']}{'_artifact' if r.get('artifact') == 'yes' else ''}.png"
        strip.save(out / name)
        print(out / name, r["label"], r.get("severity", ""), r.get("pattern", ""))


if __name__ == "__main__":
    main()
