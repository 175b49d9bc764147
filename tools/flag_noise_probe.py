#!/usr/bin/env python3
"""Exploration for the pulsatile flag on a noisier scanner (docs/flags.md, "Another scanner"):
do the band measurements separate the renders with and without the cardiac-motion artifact
better after a light smoothing? On the paired study cohorts of `tools/flag_quality_study.py`
(healthy patients only, truth masks for heart, lung and left lung, so this measures the
image signal, not the detector's anatomy):

  python tools/flag_noise_probe.py WORK PROFILE_SUFFIX SEEDS
  e.g. tools/flag_noise_probe.py /tmp/flag-study-b -scanner-b 41,42,43
       tools/flag_noise_probe.py /tmp/flag-study "" 21,22,23

Per slice with at least 30 cm2 of heart: band = left lung (eroded 2 px) within 20 mm of the
heart, reference = lung over 40 mm from it. `spread` = median absolute deviation in the band
over the reference's; `dark` = share of band pixels more than 3 robust standard deviations of
the reference below the lung median, over the reference's share; each the upper quartile over
slices. Printed: area under the ROC curve between the renders, on the raw image and after a
Gaussian (sigma 1 or 2 px) or 5x5 box filter. Development tool only.
"""
import csv
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy import ndimage
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flag_quality_study import truth_labels  # noqa: E402
from synth_render_png import read_series  # noqa: E402

FILTERS = {"raw": lambda x: x, "g1": lambda x: ndimage.gaussian_filter(x, 1.0),
           "g2": lambda x: ndimage.gaussian_filter(x, 2.0), "box5": lambda x: ndimage.uniform_filter(x, 5)}


def mad(a):
    return float(np.median(np.abs(a - np.median(a)))) + 1e-3


def measure(args):
    """(spread, dark) per filter for one render of one patient: upper quartiles over heart slices."""
    root, tag, seed, render, pid = args
    hu, ds = read_series(Path(root) / f"cohort-{seed}-a{render}{tag}" / pid)
    px = float(ds[0].PixelSpacing[0])
    lab = truth_labels(Path(root) / f"cohort-{seed}-a1{tag}" / "truth" / f"{pid}.safetensors")
    out = {}
    for name, smooth in FILTERS.items():
        spread, dark = [], []
        for k in range(len(hu)):
            heart = (lab[k] & 4) != 0
            if heart.sum() * px * px < 3000:
                continue
            lung = ndimage.binary_erosion((lab[k] & 1) != 0, iterations=2)
            d = ndimage.distance_transform_edt(~heart) * px
            band, ref = lung & ((lab[k] & 64) != 0) & (d <= 20), lung & (d > 40)
            if band.sum() < 50 or ref.sum() < 200:
                continue
            x = smooth(hu[k])
            b, r = x[band], x[ref]
            spread.append(mad(b) / mad(r))
            below = np.median(x[lung]) - 3 * 1.4826 * mad(r)
            dark.append(((b < below).mean() + 1e-3) / ((r < below).mean() + 1e-3))
        out[name] = tuple(float(np.percentile(v, 75)) if v else float("nan") for v in (spread, dark))
    return render, out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    root, tag, seeds = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
    todo = [(root, tag, s, render, r["patient_id"]) for s in seeds
            for r in csv.DictReader(open(Path(root) / f"cohort-{s}-a1{tag}" / "manifest.csv")) if r["label"] == "healthy"
            for render in (0, 1)]
    with ProcessPoolExecutor(1) as ex:
        res = list(ex.map(measure, todo))
    y = [render for render, _ in res]
    for name in FILTERS:
        for j, what in enumerate(("spread", "dark")):
            x = [m[name][j] if np.isfinite(m[name][j]) else 0.0 for _, m in res]
            print(f"{tag or 'scanner-a'} {name} {what} AUC {roc_auc_score(y, x):.3f}")


if __name__ == "__main__":
    main()
