#!/usr/bin/env python3
"""Inputs and expected values for the Swift tests of Sources/Audit/Drift.

Writes Tests/Fixtures/drift/expected.json. Every expected number comes from code other than
the Swift under test:
  * KS: scipy.stats.ks_2samp(method="exact") for statistic and p-value; for samples too large
    for the exact programme, the statistic from ks_2samp and p = scipy.special.kolmogorov(
    sqrt(n m / (n + m)) D) (the limiting distribution the Swift code documents);
  * chi-square: scipy.stats.chi2_contingency(correction=False) and scipy.stats.chi2.sf;
  * PSI: NumPy (np.quantile, np.searchsorted) following the definition of docs/drift.md;
  * MMD: the unbiased statistic from a full kernel matrix (scipy.spatial.distance.cdist and
    pdist), and its permutation p-value from the same xoshiro256** stream, reimplemented in
    tools/stats_make_fixtures.py (checked there against published reference outputs);
  * Holm: statsmodels.stats.multitest.multipletests(method="holm").

Run: /work/venv/bin/python tools/drift_make_fixtures.py
"""
import json
import os
import sys

import numpy as np
from scipy import special, stats
from scipy.spatial.distance import cdist, pdist
from statsmodels.stats.multitest import multipletests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stats_make_fixtures import Xoshiro256StarStar, check_generator_against_published_values  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "drift")


def ks_cases(rng):
    cases = []
    specs = [("equal_sizes", 40, 40, 0.0, 1.0, None), ("shifted", 50, 80, 0.6, 1.0, None),
             ("small", 7, 11, 0.0, 2.0, None), ("ties", 60, 45, 0.3, 1.0, 1), ("identical_values", 20, 25, 0.0, 0.0, None),
             ("far_apart", 30, 30, 10.0, 1.0, None)]
    for name, n, m, shift, scale, decimals in specs:
        a = rng.normal(0, 1, n)
        b = rng.normal(shift, 1, m) * (scale if scale > 0 else 0) + (0 if scale > 0 else 1)
        if scale == 0:
            a = np.ones(n)
        if decimals is not None:
            a, b = np.round(a, decimals), np.round(b, decimals)
        r = stats.ks_2samp(a, b, method="exact")
        cases.append({"name": name, "a": a.tolist(), "b": b.tolist(), "statistic": float(r.statistic),
                      "p": float(r.pvalue), "method": "exact"})
    a, b = rng.normal(0, 1, 2100), rng.normal(0.05, 1, 2000)
    d = stats.ks_2samp(a, b).statistic
    en = len(a) * len(b) / (len(a) + len(b))
    cases.append({"name": "asymptotic", "a": a.tolist(), "b": b.tolist(), "statistic": float(d),
                  "p": float(special.kolmogorov(np.sqrt(en) * d)), "method": "asymptotic"})
    return cases


def chi_cases(rng):
    cases = []
    for name, r, c in [("two_by_three", {"A": 30, "B": 12, "C": 18}, {"A": 22, "B": 25, "C": 9}),
                       ("four_classes", {"healthy": 40, "covid19": 20, "h1n1": 21, "cap": 19},
                        {"healthy": 55, "covid19": 10, "h1n1": 15, "cap": 20}),
                       ("two_by_two", {"right": 80, "wrong": 20}, {"right": 60, "wrong": 40})]:
        keys = sorted(set(r) | set(c), key=lambda s: s.encode())
        table = np.array([[r.get(k, 0) for k in keys], [c.get(k, 0) for k in keys]])
        chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
        cases.append({"name": name, "reference": r, "candidate": c, "statistic": float(chi2), "p": float(p), "df": int(dof)})
    sf = [{"x": float(x), "df": float(df), "p": float(stats.chi2.sf(x, df))}
          for x, df in [(0.5, 1), (3.84, 1), (12.0, 3), (40.0, 3), (7.3, 5), (150.0, 9), (0.01, 2)]]
    return cases, sf


def psi(ref, cand, min_per_bin, max_bins):
    bins = max(2, min(max_bins, min(len(ref), len(cand)) // max(1, min_per_bin)))
    edges = []
    for k in range(1, bins):
        q = float(np.quantile(ref, k / bins))
        if not edges or edges[-1] != q:
            edges.append(q)
    e = np.array(edges)
    rc = np.bincount(np.searchsorted(e, ref, side="left"), minlength=len(e) + 1)
    cc = np.bincount(np.searchsorted(e, cand, side="left"), minlength=len(e) + 1)
    b = len(e) + 1
    r = (rc + 0.5) / (len(ref) + b / 2)
    c = (cc + 0.5) / (len(cand) + b / 2)
    return {"bins": b, "edges": edges, "reference_counts": rc.tolist(), "candidate_counts": cc.tolist(),
            "value": float(np.sum((c - r) * np.log(c / r))), "null_expectation": (b - 1) * (1 / len(ref) + 1 / len(cand))}


def psi_cases(rng):
    out = []
    for name, n, m, shift in [("small", 35, 28, 0.0), ("medium", 200, 150, 0.4), ("large", 400, 500, 1.0)]:
        a, b = rng.beta(2, 5, n), np.clip(rng.beta(2, 5, m) + shift * 0.1, 0, 1)
        out.append({"name": name, "reference": a.tolist(), "candidate": b.tolist(), "min_per_bin": 10, "max_bins": 10,
                    "expected": psi(a, b, 10, 10)})
    tied = np.round(rng.uniform(0, 1, 60), 1)
    out.append({"name": "ties", "reference": tied.tolist(), "candidate": np.round(rng.uniform(0, 1, 50), 1).tolist(),
                "min_per_bin": 5, "max_bins": 10, "expected": None})
    out[-1]["expected"] = psi(np.array(out[-1]["reference"]), np.array(out[-1]["candidate"]), 5, 10)
    return out


def shuffle(order, rng):
    for i in range(len(order) - 1, 0, -1):
        j = rng.index_below(i + 1)
        order[i], order[j] = order[j], order[i]


def mmd_expected(ref_units, cand_units, permutations, seed):
    units = ref_units + cand_units
    vectors = np.array([v for u in units for v in u], dtype=np.float64)
    owner = np.array([k for k, u in enumerate(units) for _ in u])
    sd = vectors.std(axis=0, ddof=1)
    keep = sd >= 1e-12
    z = (vectors[:, keep] - vectors[:, keep].mean(axis=0)) / sd[keep]
    sigma = float(np.median(pdist(z)))
    K = np.exp(-cdist(z, z, "sqeuclidean") / (2 * sigma * sigma))

    def stat(x_units):
        xm = np.isin(owner, x_units)
        ym = ~xm
        nx, ny = xm.sum(), ym.sum()
        kxx, kyy, kxy = K[np.ix_(xm, xm)], K[np.ix_(ym, ym)], K[np.ix_(xm, ym)]
        return ((kxx.sum() - np.trace(kxx)) / (nx * (nx - 1)) + (kyy.sum() - np.trace(kyy)) / (ny * (ny - 1))
                - 2 * kxy.sum() / (nx * ny))

    nx = len(ref_units)
    observed = stat(list(range(nx)))
    rng = Xoshiro256StarStar(seed=seed)
    order = list(range(len(units)))
    exceed = 0
    for _ in range(permutations):
        shuffle(order, rng)
        if stat(order[:nx]) >= observed - 1e-12 * max(1, abs(observed)):
            exceed += 1
    return {"statistic": float(observed), "bandwidth": sigma, "p": (1 + exceed) / (1 + permutations),
            "dimensions": int(keep.sum())}


def mmd_cases(rng):
    out = []
    d = 6
    f32 = lambda a: np.asarray(a, dtype=np.float32).astype(np.float64)  # noqa: E731
    # Patient level: one vector per unit; a constant dimension is dropped.
    for name, shift in [("patients_same", 0.0), ("patients_shifted", 0.8)]:
        ref = f32(rng.normal(0, 1, (25, d)))
        cand = f32(rng.normal(0, 1, (20, d)))
        cand[:, 0] += shift
        ref[:, 5] = 1.5
        cand[:, 5] = 1.5
        ref, cand = f32(ref), f32(cand)  # the Swift side reads float32 features
        r_units = [[v.tolist()] for v in ref]
        c_units = [[v.tolist()] for v in cand]
        out.append({"name": name, "reference": r_units, "candidate": c_units, "permutations": 199, "seed": 7,
                    "expected": mmd_expected(r_units, c_units, 199, 7)})
    # Slice level: units of 1 to 3 vectors that share a patient effect.
    r_units, c_units = [], []
    for units, shift in [(r_units, 0.0), (c_units, 0.5)]:
        for _ in range(14):
            centre = rng.normal(shift, 1, d)
            units.append(f32(centre + 0.3 * rng.normal(0, 1, (int(rng.integers(1, 4)), d))).tolist())
    out.append({"name": "slices_shifted", "reference": r_units, "candidate": c_units, "permutations": 199, "seed": 11,
                "expected": mmd_expected(r_units, c_units, 199, 11)})
    return out


def holm_cases(rng):
    out = []
    for p in [[0.01, 0.04, 0.03, 0.2], [0.001, 0.5, 0.0004, 0.02, 0.02, 0.9, 0.04], rng.uniform(0, 0.1, 12).tolist()]:
        out.append({"p": p, "adjusted": multipletests(p, method="holm")[1].tolist()})
    return out


def main():
    check_generator_against_published_values()
    rng = np.random.default_rng(20260)
    chi, sf = chi_cases(rng)
    data = {"ks": ks_cases(rng), "chi_square": chi, "chi_square_sf": sf, "psi": psi_cases(rng),
            "mmd": mmd_cases(rng), "holm": holm_cases(rng)}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print("wrote", os.path.join(OUT, "expected.json"))


if __name__ == "__main__":
    main()
