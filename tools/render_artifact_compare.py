#!/usr/bin/env python3
"""Render the pulsatile (cardiac-motion) artifact next to the same scan without it.

  python tools/render_artifact_compare.py CLEAN_DIR ARTIFACT_DIR OUT_DIR [--patients H0001,...]
                                          [--slices 6] [--zoom]

CLEAN_DIR and ARTIFACT_DIR are two `mlung-audit synth` cohorts with the same options except
`--artifact-rate` (0 and > 0): the same seed renders the same anatomy, placement and noise, so
their difference is the artifact alone. For each patient with `artifact=yes` in ARTIFACT_DIR
(or the ones given) it writes one PNG: for the `--slices` slices with the largest change,
three rows: without the artifact, with it (lung window, centre -600, width 1500) and the
difference (with - without, -300..+300 HU, blue darker, red brighter). `--zoom` crops to the
paracardiac region (the box of changed pixels, grown by 15 mm). It also prints per patient the
number of slices with at least 50 mm2 of lung-range pixels changed by >= 30 HU and the 99th
percentile of |change| in the lung range.
"""
import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_render_png import read_series  # noqa: E402

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clean")
    ap.add_argument("artifact")
    ap.add_argument("out")
    ap.add_argument("--patients", default="")
    ap.add_argument("--slices", type=int, default=6)
    ap.add_argument("--zoom", action="store_true")
    a = ap.parse_args()
    clean, art, out = Path(a.clean), Path(a.artifact), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(art / "manifest.csv")))
    if a.patients:
        rows = [r for r in rows if r["patient_id"] in a.patients.split(",")]
    else:
        rows = [r for r in rows if r.get("artifact") == "yes"]
    for r in rows:
        pid = r["patient_id"]
        h0, ds = read_series(clean / r["path"])
        h1, _ = read_series(art / r["path"])
        d = h1 - h0
        px = float(ds[0].PixelSpacing[0])
        lungish = (h0 < -300) | (h1 < -300)
        changed = (np.abs(d) >= 30) & lungish
        area = changed.sum(axis=(1, 2)) * px * px
        nslices = int((area >= 50).sum())
        p99 = float(np.percentile(np.abs(d[lungish]), 99.9)) if lungish.any() else 0.0
        print(f"{pid} {r['label']} amp={r.get('artifact_strength')} hr={r.get('heart_rate')} "
              f"rot={r.get('rotation_time')}: slices with >=50 mm2 lung changed >=30 HU: {nslices}/{len(ds)}, "
              f"max lung-range area {area.max():.0f} mm2, p99.9 |dHU| lung {p99:.0f}")
        ks = sorted(np.argsort(-area)[:a.slices])
        if a.zoom:
            m = np.abs(d).max(axis=0) >= 30
            if m.any():
                rr, cc = np.where(m)
                g = int(15 / px)
                r0, r1 = max(0, rr.min() - g), min(d.shape[1], rr.max() + g)
                c0, c1 = max(0, cc.min() - g), min(d.shape[2], cc.max() + g)
            else:
                r0, r1, c0, c1 = 0, d.shape[1], 0, d.shape[2]
        else:
            r0, r1, c0, c1 = 0, d.shape[1], 0, d.shape[2]
        fig, ax = plt.subplots(3, len(ks), figsize=(2.6 * len(ks), 8), squeeze=False)
        for j, k in enumerate(ks):
            ax[0, j].imshow(h0[k, r0:r1, c0:c1], cmap="gray", vmin=-1350, vmax=150)
            ax[0, j].set_title(f"k={k} z={float(ds[k].ImagePositionPatient[2]):.0f}", fontsize=8)
            ax[1, j].imshow(h1[k, r0:r1, c0:c1], cmap="gray", vmin=-1350, vmax=150)
            ax[1, j].set_title(f"{area[k]:.0f} mm2 changed", fontsize=8)
            ax[2, j].imshow(d[k, r0:r1, c0:c1], cmap="bwr", vmin=-300, vmax=300)
            for i in range(3):
                ax[i, j].set_xticks([]); ax[i, j].set_yticks([])
        ax[0, 0].set_ylabel("without"); ax[1, 0].set_ylabel("with artifact"); ax[2, 0].set_ylabel("difference")
        fig.suptitle(f"{pid} {r['label']} amplitude {r.get('artifact_strength')} mm, {r.get('heart_rate')} bpm, "
                     f"rotation {r.get('rotation_time')} s (patient's left on the image's right)", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / f"{pid}_compare.png", dpi=90)
        plt.close(fig)


if __name__ == "__main__":
    main()
