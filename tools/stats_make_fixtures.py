#!/usr/bin/env python3
"""Prediction sets and their expected statistics for the Swift tests of Sources/Audit/Statistics.

Writes Tests/Fixtures/stats/:
  <case>.csv, <case>_baseline.csv   predictions CSVs (header patient_id,label,p_healthy,p_covid19,
                                    p_h1n1,p_cap plus metadata columns), made with a seeded NumPy
                                    generator; a baseline file has its rows shuffled and its
                                    columns in another order, and may have no label column
  expected.json                     the expected figures of every case

Cases: `random` (300 patients, 10 unlabelled, site/sex/age metadata, a paired baseline with
enough discordant pairs for McNemar's chi-square), `ties` (probabilities in tenths: tied scores
and tied argmaxes), `rare` (h1n1 with a single positive, cap absent), `perfect` (perfect
separation, and a second perfect model), `tiny` (12 patients, exact McNemar, a baseline without
labels like a deployment log).

Every expected number comes from code other than the Swift under test:
  * scikit-learn: confusion_matrix, recall_score (sensitivity/specificity), roc_auc_score,
    roc_curve(drop_intermediate=False), brier_score_loss(scale_by_half=False), cohen_kappa_score;
  * statsmodels: proportion_confint(method="wilson"), mcnemar(exact = discordant < 25,
    correction=True); SciPy: binomtest, norm.ppf;
  * DeLong: an implementation of Sun & Xu's fast algorithm written here (NumPy, vectorised,
    following the published algorithm), checked against R's pROC (Debian r-cran-proc:
    ci.auc(method="delong"), var(), roc.test(method="delong", paired=TRUE)) and stored beside it;
  * the bootstrap: the same documented generator (xoshiro256** seeded by SplitMix64, Lemire's
    index) re-implemented here and checked against the published reference outputs, the same
    resampling order, and every metric recomputed on the resampled arrays with the functions
    above; percentiles with numpy.quantile(method="linear"); p-values by docs/statistics.md.

Slice-level figures (`evaluate --slice-labels`): slices_<case>.csv hold per slice the labels and
the stored outputs (patient_id,slice_index,lesion,class,lesion_p0,lesion_p1,q_healthy,q_covid19,
q_h1n1,q_cap) and expected_slices.json their figures: the lesion head's sensitivity,
specificity (recall_score), accuracy (accuracy_score), AUC (roc_auc_score), ROC (roc_curve),
Wilson and DeLong intervals, and the four-class figures of q against the slice class; the
bootstrap resamples PATIENTS with the documented generator (one draw per patient with a label
of the kind judged, patients in UTF-8 id order) and takes all the slices of each drawn patient.

Run: /work/venv/bin/python tools/stats_make_fixtures.py   (needs Rscript with pROC for the
pROC columns: apt-get install r-base-core r-cran-proc)
     /work/venv/bin/python tools/stats_make_fixtures.py --slices-only   (only the slice fixtures;
no R needed)
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import scipy
import sklearn
import statsmodels
from scipy.stats import binomtest, norm
from sklearn.metrics import (accuracy_score, brier_score_loss, cohen_kappa_score, confusion_matrix, recall_score,
                             roc_auc_score, roc_curve)
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "stats")
CLASSES = ["healthy", "covid19", "h1n1", "cap"]
K = 4
LEVEL = 0.95
BINS = 10
SEED = 7  # the bootstrap seed of the fixtures (not the CLI default, to prove it is passed on)
RESAMPLES = 2000
MASK = (1 << 64) - 1

# ---------------------------------------------------------------------------------------------
# The documented generator: SplitMix64 -> xoshiro256**, Lemire's index.


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256StarStar:
    def __init__(self, seed=None, state=None):
        if state is None:
            sm = SplitMix64(seed)
            state = [sm.next() for _ in range(4)]
        self.s = list(state)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def index_below(self, n):
        m = self.next() * n
        low = m & MASK
        if low < n:
            threshold = ((1 << 64) - n) % n
            while low < threshold:
                m = self.next() * n
                low = m & MASK
        return m >> 64


def check_generator_against_published_values():
    """Known answers published with the algorithms (Rosetta Code "Splitmix64"; Vigna's
    xoshiro256starstar.c from the state {1, 2, 3, 4}, as in its ports' test suites)."""
    sm = SplitMix64(1234567)
    assert [sm.next() for _ in range(5)] == [6457827717110365317, 3203168211198807973, 9817491932198370423,
                                              4593380528125082431, 16408922859458223821]
    x = Xoshiro256StarStar(state=[1, 2, 3, 4])
    assert [x.next() for _ in range(10)] == [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360,
                                             607988272756665600, 16172922978634559625, 8476171486693032832,
                                             10595114339597558777, 2904607092377533576]


def resample_indices(n, resamples, seed):
    rng = Xoshiro256StarStar(seed=seed)
    return [np.array([rng.index_below(n) for _ in range(n)]) for _ in range(resamples)]


# ---------------------------------------------------------------------------------------------
# Reading the CSVs back (Python's float() rounds correctly, as Swift's Double(String) does).


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = {}
    for r in rows:
        label = r.get("label", "")
        out[r["patient_id"]] = {
            "label": CLASSES.index(label) if label else None,
            "p": np.array([float(r["p_" + c]) for c in CLASSES]),
            "meta": {k: v for k, v in r.items() if k not in ["patient_id", "label"] + ["p_" + c for c in CLASSES]},
        }
    return out


def canonical(ids):
    return sorted(ids, key=lambda s: s.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Figures.


def nan_to_none(x):
    if x is None:
        return None
    x = float(x)
    return None if np.isnan(x) else x


def wilson(count, total):
    if total == 0:
        return None
    lo, hi = proportion_confint(count, total, alpha=1 - LEVEL, method="wilson")
    return [max(0.0, float(lo)), min(1.0, float(hi))]


def ece_of(conf, correct):
    b = np.minimum(np.floor(conf * BINS).astype(int), BINS - 1)
    n = len(conf)
    e = 0.0
    for k in range(BINS):
        m = b == k
        if m.any():
            e += m.sum() / n * abs(correct[m].mean() - conf[m].mean())
    return e


def safe_mean(mask_values):
    return float(np.mean(mask_values)) if len(mask_values) else float("nan")


def safe_auc(y, s):
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, s))


METRICS = (["accuracy", "fpe", "fne", "fdpe"] + ["sensitivity." + c for c in CLASSES]
           + ["specificity." + c for c in CLASSES] + ["auc." + c for c in CLASSES] + ["brier", "ece"])


def metric_vector(y, P):
    """Every metric of labels y and probabilities P (rows), NaN where undefined."""
    pred = np.argmax(P, axis=1)
    v = {}
    if len(y) == 0:
        return {m: float("nan") for m in METRICS}
    v["accuracy"] = float(np.mean(pred == y))
    h, s = y == 0, y != 0
    v["fpe"] = safe_mean(pred[h] != 0)
    v["fne"] = safe_mean(pred[s] == 0)
    v["fdpe"] = safe_mean((pred[s] != 0) & (pred[s] != y[s]))
    for c in range(K):
        pos, neg = y == c, y != c
        v["sensitivity." + CLASSES[c]] = safe_mean(pred[pos] == c)
        v["specificity." + CLASSES[c]] = safe_mean(pred[neg] != c)
        v["auc." + CLASSES[c]] = safe_auc(pos, P[:, c])
    onehot = np.eye(K)[y]
    v["brier"] = float(np.mean(np.sum((P - onehot) ** 2, axis=1)))
    conf = P[np.arange(len(y)), pred]
    v["ece"] = ece_of(conf, (pred == y).astype(float))
    return v


def percentile_interval(values):
    d = np.array([x for x in values if not np.isnan(x)])
    if len(d) == 0:
        return None
    a = (1 - LEVEL) / 2
    return [float(np.quantile(d, a, method="linear")), float(np.quantile(d, 1 - a, method="linear")), int(len(d))]


def paired_p(values):
    d = np.array([x for x in values if not np.isnan(x)])
    if len(d) == 0:
        return None
    # Rounding noise (~1e-16) makes two equal figures differ in the last bit (scikit-learn's
    # trapezoidal AUC; ECE sums of tenths): as documented, |d| < 1e-12 is an exact tie and
    # counts in both tails.
    d[np.abs(d) < 1e-12] = 0.0
    m = len(d)
    return float(min(1.0, 2 * min((1 + np.sum(d <= 0)) / (m + 1), (1 + np.sum(d >= 0)) / (m + 1))))


# ---------------------------------------------------------------------------------------------
# DeLong, following Sun & Xu (2014): midranks of positives, negatives and both.


def midrank(x):
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    n = len(x)
    t = np.zeros(n)
    i = 0
    while i < n:
        j = i
        while j < n and xs[j] == xs[i]:
            j += 1
        t[i:j] = 0.5 * (i + j - 1) + 1
        i = j
    out = np.empty(n)
    out[order] = t
    return out


def fast_delong(scores, y):
    """scores: [k, N] for k models; y: bool [N]. Returns aucs [k] and covariance [k, k] (or None)."""
    scores = np.atleast_2d(scores)
    pos, neg = scores[:, y], scores[:, ~y]
    m, n = pos.shape[1], neg.shape[1]
    k = scores.shape[0]
    tx = np.array([midrank(pos[r]) for r in range(k)])
    ty = np.array([midrank(neg[r]) for r in range(k)])
    tz = np.array([midrank(np.concatenate([pos[r], neg[r]])) for r in range(k)])
    aucs = tz[:, :m].sum(axis=1) / m / n - (m + 1.0) / 2.0 / n
    v01 = (tz[:, :m] - tx) / n
    v10 = 1.0 - (tz[:, m:] - ty) / m
    if m < 2 or n < 2:
        return aucs, None
    sx = np.atleast_2d(np.cov(v01))
    sy = np.atleast_2d(np.cov(v10))
    return aucs, sx / m + sy / n


# ---------------------------------------------------------------------------------------------
# R's pROC.

R_SCRIPT = r"""
suppressMessages(library(pROC))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
paired <- "b0" %in% names(d)
f <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) "NA" else sprintf("%.17g", x)
for (k in 0:3) {
  y <- d[[paste0("y", k)]]
  if (sum(y == 1) == 0 || sum(y == 0) == 0) next
  r <- roc(response = y, predictor = d[[paste0("s", k)]], levels = c(0, 1), direction = "<", quiet = TRUE)
  ci <- suppressWarnings(ci.auc(r, method = "delong"))
  v <- suppressWarnings(var(r, method = "delong"))
  cat("single", k, f(as.numeric(auc(r))), f(ci[1]), f(ci[3]), f(v), "\n", sep = ",")
  if (paired) {
    rb <- roc(response = y, predictor = d[[paste0("b", k)]], levels = c(0, 1), direction = "<", quiet = TRUE)
    t <- tryCatch(suppressWarnings(roc.test(r, rb, method = "delong", paired = TRUE)), error = function(e) NULL)
    if (!is.null(t)) {
      cat("paired", k, f(t$statistic), f(t$p.value), f(t$conf.int[1]), f(t$conf.int[2]),
          f(t$estimate[1]), f(t$estimate[2]), "\n", sep = ",")
    }
  }
}
cat("version", as.character(packageVersion("pROC")), "\n", sep = ",")
"""


def run_proc(y, S, B=None):
    if shutil.which("Rscript") is None:
        sys.exit("Rscript (Debian r-base-core, r-cran-proc) is needed for the pROC references")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "d.csv")
        script = os.path.join(tmp, "s.R")
        with open(script, "w") as f:
            f.write(R_SCRIPT)
        cols = {}
        for k in range(K):
            cols["y%d" % k] = (y == k).astype(int)
            cols["s%d" % k] = S[:, k]
            if B is not None:
                cols["b%d" % k] = B[:, k]
        with open(data, "w") as f:
            names = list(cols)
            f.write(",".join(names) + "\n")
            for i in range(len(y)):
                f.write(",".join(repr(float(cols[c][i])) if c[0] != "y" else str(int(cols[c][i])) for c in names) + "\n")
        out = subprocess.run(["Rscript", script, data], check=True, capture_output=True, text=True).stdout
    single, paired, version = {}, {}, None

    def num(s):
        return None if s in ("NA", "NaN") else float(s)

    for line in out.splitlines():
        f = line.split(",")
        if f[0] == "single":
            single[int(f[1])] = {"auc": num(f[2]), "ci": [num(f[3]), num(f[4])], "var": num(f[5])}
        elif f[0] == "paired":
            paired[int(f[1])] = {"z": num(f[2]), "p": num(f[3]), "ci": [num(f[4]), num(f[5])],
                                 "auc_candidate": num(f[6]), "auc_baseline": num(f[7])}
        elif f[0] == "version":
            version = f[1]
    return single, paired, version


def close(a, b, rel=1e-12, abs_=1e-14):
    return a is None and b is None or (a is not None and b is not None and abs(a - b) <= rel * abs(b) + abs_)


# ---------------------------------------------------------------------------------------------
# Expected values of one set and of a pair.


def arrays(data, ids):
    y = np.array([data[i]["label"] for i in ids], dtype=int)
    P = np.array([data[i]["p"] for i in ids]).reshape(len(ids), K)
    return y, P


def expected_evaluation(data, seed, resamples, proc=True):
    ids = canonical([i for i in data if data[i]["label"] is not None])
    y, P = arrays(data, ids)
    pred = np.argmax(P, axis=1) if len(ids) else np.array([], dtype=int)
    ev = {"patients": len(data), "labelled": len(ids),
          "predicted": {i: CLASSES[int(np.argmax(data[i]["p"]))] for i in canonical(list(data))}}
    ev["confusion"] = confusion_matrix(y, pred, labels=list(range(K))).tolist() if len(ids) else [[0] * K] * K
    boot = {m: [] for m in METRICS}
    if resamples:
        for idx in resample_indices(len(ids), resamples, seed):
            v = metric_vector(y[idx], P[idx])
            for m in METRICS:
                boot[m].append(v[m])

    def prop(count, total, metric):
        return {"count": int(count), "total": int(total), "value": count / total if total else None,
                "wilson": wilson(int(count), int(total)),
                "bootstrap": percentile_interval(boot[metric]) if resamples else None}

    h, s = y == 0, y != 0
    ev["accuracy"] = prop(np.sum(pred == y), len(y), "accuracy")
    ev["fpe"] = prop(np.sum(pred[h] != 0), np.sum(h), "fpe")
    ev["fne"] = prop(np.sum(pred[s] == 0), np.sum(s), "fne")
    ev["fdpe"] = prop(np.sum((pred[s] != 0) & (pred[s] != y[s])), np.sum(s), "fdpe")
    if np.sum(h):
        assert close(ev["fpe"]["value"], 1 - recall_score(h, pred == 0, zero_division=np.nan))
    single_r, _, version = run_proc(y, P) if proc and len(ids) else ({}, {}, None)
    classes = []
    z = norm.ppf(1 - (1 - LEVEL) / 2)
    for c in range(K):
        pos, neg = y == c, y != c
        cm = {"positives": int(pos.sum()), "negatives": int(neg.sum())}
        cm["sensitivity"] = prop(np.sum(pred[pos] == c), pos.sum(), "sensitivity." + CLASSES[c])
        cm["specificity"] = prop(np.sum(pred[neg] != c), neg.sum(), "specificity." + CLASSES[c])
        if pos.sum():
            assert close(cm["sensitivity"]["value"], recall_score(pos, pred == c))
        if neg.sum():
            assert close(cm["specificity"]["value"], recall_score(~pos, pred != c, pos_label=True))
        auc = {"value": None, "delong_se": None, "delong": None, "proc": None,
               "bootstrap": percentile_interval(boot["auc." + CLASSES[c]]) if resamples else None}
        roc = None
        if pos.any() and neg.any():
            auc["value"] = float(roc_auc_score(pos, P[:, c]))
            fpr, tpr, thr = roc_curve(pos, P[:, c], drop_intermediate=False)
            roc = {"fpr": fpr.tolist(), "tpr": tpr.tolist(),
                   "thresholds": [None if np.isinf(t) else float(t) for t in thr]}
            aucs, cov = fast_delong(P[:, c], pos)
            assert close(float(aucs[0]), auc["value"], 1e-12)
            if cov is not None:
                se = float(np.sqrt(cov[0, 0]))
                auc["delong_se"] = se
                auc["delong"] = [max(0.0, auc["value"] - z * se), min(1.0, auc["value"] + z * se)]
            if c in single_r:
                r = single_r[c]
                auc["proc"] = {"auc": r["auc"], "ci": r["ci"] if r["ci"][0] is not None else None,
                               "se": None if r["var"] is None else float(np.sqrt(r["var"]))}
                assert close(r["auc"], auc["value"], 1e-12)
                if cov is not None:
                    assert close(r["ci"][0], auc["delong"][0]) and close(r["ci"][1], auc["delong"][1]), (r, auc)
                else:
                    assert r["ci"][0] is None
        cm["auc"] = auc
        cm["roc"] = roc
        classes.append(cm)
    ev["classes"] = classes
    if len(ids):
        brier = float(brier_score_loss(y, P, labels=list(range(K)), scale_by_half=False))
        assert close(brier, float(np.mean(np.sum((P - np.eye(K)[y]) ** 2, axis=1))))
    else:
        brier = None
    ev["brier"] = {"value": brier, "bootstrap": percentile_interval(boot["brier"]) if resamples else None}
    conf = P[np.arange(len(y)), pred] if len(ids) else np.array([])
    correct = (pred == y).astype(float)
    ev["ece"] = {"value": ece_of(conf, correct) if len(ids) else None,
                 "bootstrap": percentile_interval(boot["ece"]) if resamples else None}
    b = np.minimum(np.floor(conf * BINS).astype(int), BINS - 1)
    bins = []
    for k in range(BINS):
        m = b == k
        bins.append({"count": int(m.sum()), "mean_confidence": float(conf[m].mean()) if m.any() else None,
                     "accuracy": float(correct[m].mean()) if m.any() else None,
                     "wilson": wilson(int(correct[m].sum()), int(m.sum()))})
    ev["bins"] = bins
    ev["warning_classes"] = [CLASSES[c] for c in range(K)
                             if classes[c]["positives"] < 10 or classes[c]["negatives"] < 10] if len(ids) else []
    return ev, version


def expected_comparison(cand, base, seed, resamples):
    """Candidate labels win; baseline labels fill in (the documented merge rule)."""
    ids_all = canonical(list(cand))
    label = {i: cand[i]["label"] if cand[i]["label"] is not None else base[i]["label"] for i in ids_all}
    ids = [i for i in ids_all if label[i] is not None]
    y = np.array([label[i] for i in ids], dtype=int)
    A = np.array([base[i]["p"] for i in ids])
    Bm = np.array([cand[i]["p"] for i in ids])
    va, vb = metric_vector(y, A), metric_vector(y, Bm)
    diffs = {m: [] for m in METRICS}
    if resamples:
        for idx in resample_indices(len(ids), resamples, seed):
            a, b = metric_vector(y[idx], A[idx]), metric_vector(y[idx], Bm[idx])
            for m in METRICS:
                diffs[m].append(b[m] - a[m])
    metrics = {}
    for m in METRICS:
        d = vb[m] - va[m]
        metrics[m] = {"baseline": nan_to_none(va[m]), "candidate": nan_to_none(vb[m]), "difference": nan_to_none(d),
                      "bootstrap": percentile_interval(diffs[m]) if resamples else None,
                      "p": paired_p(diffs[m]) if resamples else None}
    pa, pb = np.argmax(A, axis=1), np.argmax(Bm, axis=1)
    ra, rb = pa == y, pb == y
    b_, c_ = int(np.sum(ra & ~rb)), int(np.sum(~ra & rb))
    table = [[int(np.sum(ra & rb)), b_], [c_, int(np.sum(~ra & ~rb))]]
    exact = b_ + c_ < 25
    res = mcnemar(table, exact=exact, correction=True)
    mc = {"both_correct": table[0][0], "baseline_only_correct": b_, "candidate_only_correct": c_,
          "both_wrong": table[1][1], "method": "exact_binomial" if exact else "chi_square_continuity_corrected",
          "statistic": float(res.statistic), "p": float(res.pvalue)}
    if exact and b_ + c_ > 0:
        assert close(float(binomtest(min(b_, c_), b_ + c_, 0.5).pvalue), mc["p"], 1e-12)
    _, paired_r, _ = run_proc(y, Bm, A)
    z = norm.ppf(1 - (1 - LEVEL) / 2)
    delong = []
    for c in range(K):
        pos = y == c
        t = {"baseline": None, "candidate": None, "difference": None, "se": None, "z": None, "p": None,
             "interval": None, "proc": None}
        if pos.any() and (~pos).any():
            aucs, cov = fast_delong(np.vstack([Bm[:, c], A[:, c]]), pos)
            t["candidate"], t["baseline"] = float(aucs[0]), float(aucs[1])
            d = float(aucs[0] - aucs[1])
            t["difference"] = d
            if cov is not None:
                var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
                se = float(np.sqrt(max(var, 0.0)))
                zz = (0.0 if d == 0 else float(np.sign(d) * np.inf)) if se == 0 else d / se
                t["se"] = se
                t["z"] = None if np.isinf(zz) else zz
                t["p"] = float(2 * norm.sf(abs(zz)))
                t["interval"] = [d - z * se, d + z * se]
            if c in paired_r:
                r = paired_r[c]
                t["proc"] = r
                if cov is not None and r["z"] is not None and t["z"] is not None:
                    assert close(r["z"], t["z"], 1e-9, 1e-12) and close(r["p"], t["p"], 1e-9, 1e-15), (r, t)
        delong.append(t)
    flips = []
    for j, i in enumerate(ids):
        if ra[j] != rb[j]:
            flips.append({"patient_id": i, "label": CLASSES[y[j]],
                          "direction": "right_to_wrong" if ra[j] else "wrong_to_right",
                          "baseline_predicted": CLASSES[pa[j]], "candidate_predicted": CLASSES[pb[j]]})
    Aall = np.array([base[i]["p"] for i in ids_all])
    Ball = np.array([cand[i]["p"] for i in ids_all])
    qa, qb = np.argmax(Aall, axis=1), np.argmax(Ball, axis=1)
    diff = np.abs(Ball - Aall)
    flat = int(np.argmax(diff))  # first maximum in patient-then-class order
    kappa = float(cohen_kappa_score(qa, qb, labels=list(range(K)))) if len(set(qa) | set(qb)) > 1 else None
    agreement = {"patients": len(ids_all), "same_prediction": int(np.sum(qa == qb)), "kappa": kappa,
                 "largest": {"patient_id": ids_all[flat // K], "class": CLASSES[flat % K], "value": float(diff.flat[flat])},
                 "mean_absolute_difference": float(diff.mean()),
                 "disagreeing": [ids_all[j] for j in range(len(ids_all)) if qa[j] != qb[j]]}
    return {"labelled": len(ids), "metrics": metrics, "mcnemar": mc, "delong": delong, "flips": flips,
            "agreement": agreement}


# ---------------------------------------------------------------------------------------------
# The prediction sets.


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def write_csv(path, ids, labels, P, meta=None, columns=None, shuffle_rng=None, with_label=True):
    base = ["patient_id"] + (["label"] if with_label else []) + ["p_" + c for c in CLASSES]
    meta_cols = list(meta[0].keys()) if meta else []
    cols = columns or (base + meta_cols)
    rows = []
    for j, i in enumerate(ids):
        r = {"patient_id": i, "label": "" if labels[j] is None else CLASSES[labels[j]]}
        for k, c in enumerate(CLASSES):
            r["p_" + c] = repr(float(P[j, k]))
        if meta:
            r.update(meta[j])
        rows.append(r)
    if shuffle_rng is not None:
        rows = [rows[t] for t in shuffle_rng.permutation(len(rows))]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r[c] for c in cols])
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


def make_random(rng):
    n = 300
    ids = ["R%03d" % (t * 7 % 1000) for t in range(n)]  # ids not in row order
    labels = list(rng.choice(K, size=n, p=[0.35, 0.3, 0.15, 0.2]))
    strength = rng.uniform(0.3, 2.8, size=n)
    z = rng.normal(0, 1, size=(n, K))
    z[np.arange(n), labels] += strength
    P = softmax(z)
    Pb = softmax(z + rng.normal(0, 0.9, size=(n, K)))
    unl = rng.choice(n, size=10, replace=False)
    labels = [None if j in unl else int(labels[j]) for j in range(n)]
    sites = rng.choice(["A", "B", "C", ""], size=n, p=[0.45, 0.35, 0.15, 0.05])
    ages = [("" if rng.uniform() < 0.03 else str(int(rng.integers(18, 90)))) for _ in range(n)]
    meta = [{"site": sites[j], "sex": "F" if rng.uniform() < 0.5 else "M", "age": ages[j]} for j in range(n)]
    return ids, labels, P, Pb, meta


def tenths(rng, n, labels, hit):
    """Probabilities in tenths (ties everywhere); the true class usually gets the most."""
    P = np.zeros((n, K))
    for j in range(n):
        parts = rng.multinomial(10, np.ones(K) / K)
        if rng.uniform() < hit:
            top = int(np.argmax(parts))
            parts[top], parts[labels[j]] = parts[labels[j]], parts[top]
        P[j] = parts / 10.0
    return P


def make_ties(rng):
    n = 120
    ids = ["T%03d" % t for t in range(n)]
    labels = list(rng.choice(K, size=n))
    P = tenths(rng, n, labels, 0.7)
    Pb = tenths(rng, n, labels, 0.6)
    P[0] = [0.4, 0.4, 0.1, 0.1]      # argmax tie: healthy (lowest index)
    P[1] = [0.1, 0.3, 0.3, 0.3]      # argmax tie: covid19
    P[2] = [0.25, 0.25, 0.25, 0.25]  # all tied: healthy
    return ids, [int(l) for l in labels], P, Pb


def make_rare(rng):
    n = 150
    ids = ["Q%03d" % t for t in range(n)]
    labels = list(rng.choice([0, 1], size=n, p=[0.5, 0.5]))
    labels[17] = 2  # a single h1n1 patient; no cap patient
    z = rng.normal(0, 1, size=(n, K))
    z[np.arange(n), labels] += 1.5
    return ids, [int(l) for l in labels], softmax(z)


def make_perfect(rng):
    n = 60
    ids = ["P%02d" % t for t in range(n)]
    labels = [t % K for t in range(n)]

    def model():
        P = np.zeros((n, K))
        for j in range(n):
            top = rng.uniform(0.7, 0.97)
            rest = rng.dirichlet(np.ones(K - 1)) * (1 - top)
            P[j, labels[j]] = top
            P[j, [k for k in range(K) if k != labels[j]]] = rest
        return P

    return ids, labels, model(), model()


def make_tiny(rng):
    n = 12
    ids = ["t%02d" % t for t in range(n)]
    labels = [int(l) for l in rng.choice(K, size=n)]
    z = rng.normal(0, 1, size=(n, K))
    z[np.arange(n), labels] += 1.2
    return ids, labels, softmax(z), softmax(z + rng.normal(0, 1.0, size=(n, K)))


# ---------------------------------------------------------------------------------------------
# Slice-level figures: clustered by patient.

SLICE_COLUMNS = ["patient_id", "slice_index", "lesion", "class", "lesion_p0", "lesion_p1"] + ["q_" + c for c in CLASSES]


def make_slices(rng, patients, slices_range, tie_patients=0, unlabelled_rows=0, empty_class_rows=0):
    """Slices of `patients` patients: sick patients have a contiguous run of lesion slices;
    the lesion probability rises on lesion slices with a per-patient offset (clustering)."""
    rows = []
    ids = ["S%02d" % (t * 7 % 100) for t in range(patients)]  # ids not in row order
    for j, pid in enumerate(ids):
        n = int(rng.integers(*slices_range))
        disease = int(rng.choice(K, p=[0.3, 0.25, 0.2, 0.25]))
        lesion = np.zeros(n, dtype=bool)
        if disease:
            start = int(rng.integers(0, n - 2))
            lesion[start:start + int(rng.integers(2, max(3, n // 2)))] = True
        offset = rng.normal(0, 0.8)
        logit = -1.2 + offset + 2.0 * lesion + rng.normal(0, 1.0, size=n)
        p1 = 1 / (1 + np.exp(-logit))
        if j < tie_patients:
            p1 = np.round(p1, 1)  # tied scores, and p1 = 0.5 = p0 (a tie: no lesion)
            p1[0] = 0.5
        p0 = 1 - p1
        for i in range(n):
            r = rng.dirichlet(np.ones(3))
            if disease:
                r[disease - 1] += 0.6
            r = r / r.sum()
            q = [p0[i]] + list(p1[i] * r)
            rows.append({"patient_id": pid, "slice_index": i, "lesion": "1" if lesion[i] else "0",
                         "class": CLASSES[disease] if lesion[i] else "healthy",
                         "lesion_p0": repr(float(p0[i])), "lesion_p1": repr(float(p1[i])),
                         **{"q_" + c: repr(float(q[k])) for k, c in enumerate(CLASSES)}})
    for t in rng.choice(len(rows), size=unlabelled_rows, replace=False):
        rows[t]["lesion"] = ""
    for t in rng.choice(len(rows), size=empty_class_rows, replace=False):
        rows[t]["class"] = ""
    perm = rng.permutation(len(rows))  # row order must not matter
    return [rows[t] for t in perm]


def write_slices(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SLICE_COLUMNS)
        for r in rows:
            w.writerow([r[c] for c in SLICE_COLUMNS])


def read_slices(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = [{"pid": r["patient_id"], "i": int(r["slice_index"]),
            "lesion": None if r["lesion"] == "" else r["lesion"] == "1",
            "class": CLASSES.index(r["class"]) if r["class"] else None,
            "p": np.array([float(r["lesion_p0"]), float(r["lesion_p1"])]),
            "q": np.array([float(r["q_" + c]) for c in CLASSES])} for r in rows]
    return sorted(out, key=lambda r: (r["pid"].encode("utf-8"), r["i"]))


def clustered_resamples(units, seed, resamples):
    """Index arrays into `units` (ordered by patient, slice): for each resample the slices of
    each drawn patient, patients drawn with the documented generator."""
    patients = []
    for u in units:
        if not patients or patients[-1] != u["pid"]:
            patients.append(u["pid"])
    members = {p: [] for p in patients}
    for k, u in enumerate(units):
        members[u["pid"]].append(k)
    for idx in resample_indices(len(patients), resamples, seed):
        yield np.array([k for t in idx for k in members[patients[t]]], dtype=int)


def lesion_vector(y, s, pred):
    v = {"sensitivity": safe_mean(pred[y]), "specificity": safe_mean(~pred[~y]),
         "accuracy": safe_mean(pred == y), "auc": safe_auc(y, s)}
    return v


def expected_slices(units, seed, resamples):
    lab = [u for u in units if u["lesion"] is not None]
    y = np.array([u["lesion"] for u in lab], dtype=bool)
    P = np.array([u["p"] for u in lab])
    s, pred = P[:, 1], P[:, 1] > P[:, 0]
    boot = {m: [] for m in ["sensitivity", "specificity", "accuracy", "auc"]}
    for idx in clustered_resamples(lab, seed, resamples):
        v = lesion_vector(y[idx], s[idx], pred[idx])
        for m in boot:
            boot[m].append(v[m])
    z = norm.ppf(1 - (1 - LEVEL) / 2)

    def prop(count, total, m):
        return {"count": int(count), "total": int(total), "value": count / total if total else None,
                "wilson": wilson(int(count), int(total)), "bootstrap": percentile_interval(boot[m])}

    out = {"slices": len(units), "labelled": len(lab), "patients": len({u["pid"] for u in lab}),
           "positives": int(y.sum()), "negatives": int((~y).sum())}
    out["sensitivity"] = prop(np.sum(pred[y]), y.sum(), "sensitivity")
    out["specificity"] = prop(np.sum(~pred[~y]), (~y).sum(), "specificity")
    out["accuracy"] = prop(np.sum(pred == y), len(y), "accuracy")
    assert close(out["sensitivity"]["value"], recall_score(y, pred))
    assert close(out["specificity"]["value"], recall_score(~y, ~pred))
    assert close(out["accuracy"]["value"], accuracy_score(y, pred))
    auc = float(roc_auc_score(y, s))
    aucs, cov = fast_delong(s, y)
    assert close(float(aucs[0]), auc, 1e-12)
    se = float(np.sqrt(cov[0, 0]))
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    out["auc"] = {"value": auc, "delong_se": se, "delong": [max(0.0, auc - z * se), min(1.0, auc + z * se)],
                  "bootstrap": percentile_interval(boot["auc"])}
    out["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": [None if np.isinf(t) else float(t) for t in thr]}
    # The slice classes: q against the class, the patient figures of metric_vector on slices.
    cl = [u for u in units if u["class"] is not None]
    yc = np.array([u["class"] for u in cl], dtype=int)
    Q = np.array([u["q"] for u in cl])
    point = metric_vector(yc, Q)
    cboot = {m: [] for m in METRICS}
    for idx in clustered_resamples(cl, seed, resamples):
        v = metric_vector(yc[idx], Q[idx])
        for m in METRICS:
            cboot[m].append(v[m])
    classes = {"labelled": len(cl), "confusion": confusion_matrix(yc, np.argmax(Q, axis=1), labels=list(range(K))).tolist(),
               "metrics": {m: {"value": nan_to_none(point[m]), "bootstrap": percentile_interval(cboot[m])} for m in METRICS},
               "delong_se": []}
    for c in range(K):
        pos = yc == c
        if pos.sum() > 1 and (~pos).sum() > 1:
            _, cv = fast_delong(Q[:, c], pos)
            classes["delong_se"].append(float(np.sqrt(cv[0, 0])))
        else:
            classes["delong_se"].append(None)
    out["classes"] = classes
    return out


def make_slice_fixtures():
    check_generator_against_published_values()
    rng = np.random.default_rng(20261127)
    cases = {}
    specs = {"slices_random": dict(patients=24, slices_range=(6, 20), tie_patients=4, unlabelled_rows=9, empty_class_rows=12),
             "slices_tiny": dict(patients=5, slices_range=(3, 7), tie_patients=2, unlabelled_rows=2, empty_class_rows=0)}
    for name, spec in specs.items():
        write_slices(os.path.join(OUT, name + ".csv"), make_slices(rng, **spec))
        units = read_slices(os.path.join(OUT, name + ".csv"))
        cases[name] = {"csv": name + ".csv", "expected": expected_slices(units, SEED, RESAMPLES)}
        print("slice case", name, len(units), "slices", file=sys.stderr)
    expected = {"generated_by": "tools/stats_make_fixtures.py --slices-only",
                "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
                             "statsmodels": statsmodels.__version__},
                "level": LEVEL, "bins": BINS, "seed": SEED, "resamples": RESAMPLES, "cases": cases}
    with open(os.path.join(OUT, "expected_slices.json"), "w") as f:
        json.dump(expected, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    make_slice_fixtures()
    if "--slices-only" in sys.argv[1:]:
        return
    rng = np.random.default_rng(20260601)
    cases = {}

    ids, labels, P, Pb, meta = make_random(rng)
    write_csv(os.path.join(OUT, "random.csv"), ids, labels, P, meta)
    write_csv(os.path.join(OUT, "random_baseline.csv"), ids, labels, Pb,
              columns=["p_cap", "label", "p_h1n1", "patient_id", "p_covid19", "p_healthy"], shuffle_rng=rng)
    cases["random"] = {"csv": "random.csv", "baseline_csv": "random_baseline.csv", "subgroups": ["site", "age:40,65"]}

    ids, labels, P, Pb = make_ties(rng)
    write_csv(os.path.join(OUT, "ties.csv"), ids, labels, P)
    write_csv(os.path.join(OUT, "ties_baseline.csv"), ids, labels, Pb, shuffle_rng=rng)
    cases["ties"] = {"csv": "ties.csv", "baseline_csv": "ties_baseline.csv", "subgroups": []}

    ids, labels, P = make_rare(rng)
    write_csv(os.path.join(OUT, "rare.csv"), ids, labels, P)
    cases["rare"] = {"csv": "rare.csv", "baseline_csv": None, "subgroups": []}

    ids, labels, P, Pb = make_perfect(rng)
    write_csv(os.path.join(OUT, "perfect.csv"), ids, labels, P)
    write_csv(os.path.join(OUT, "perfect_baseline.csv"), ids, labels, Pb)
    cases["perfect"] = {"csv": "perfect.csv", "baseline_csv": "perfect_baseline.csv", "subgroups": []}

    ids, labels, P, Pb = make_tiny(rng)
    write_csv(os.path.join(OUT, "tiny.csv"), ids, labels, P)
    write_csv(os.path.join(OUT, "tiny_baseline.csv"), ids, [None] * len(ids), Pb, with_label=False, shuffle_rng=rng)
    cases["tiny"] = {"csv": "tiny.csv", "baseline_csv": "tiny_baseline.csv", "subgroups": []}

    proc_version = None
    for name, case in cases.items():
        print("case", name, file=sys.stderr)
        cand = read_csv(os.path.join(OUT, case["csv"]))
        case["evaluation"], v = expected_evaluation(cand, SEED, RESAMPLES)
        proc_version = proc_version or v
        if case["baseline_csv"]:
            base = read_csv(os.path.join(OUT, case["baseline_csv"]))
            case["comparison"] = expected_comparison(cand, base, SEED, RESAMPLES)
        subgroups = []
        for spec in case["subgroups"]:
            column, _, edges = spec.partition(":")
            edges = [float(e) for e in edges.split(",")] if edges else None
            groups = {}
            for i, r in cand.items():
                v = r["meta"][column].strip()
                if v == "":
                    g = "(missing)"
                elif edges is None:
                    g = v
                else:
                    x = float(v)
                    names = ["<%g" % edges[0]] + ["%g-<%g" % (edges[t - 1], edges[t]) for t in range(1, len(edges))] \
                        + [">=%g" % edges[-1]]
                    g = names[sum(1 for e in edges if x >= e)]
                groups.setdefault(g, {})[i] = r
            out = []
            for g, members in groups.items():
                ev, _ = expected_evaluation(members, SEED, RESAMPLES, proc=False)
                out.append({"value": g, "patients": ev["patients"], "labelled": ev["labelled"],
                            "accuracy": ev["accuracy"], "auc": [c["auc"]["value"] for c in ev["classes"]],
                            "warning_classes": ev["warning_classes"]})
            subgroups.append({"spec": spec, "groups": out})
        case["subgroups"] = subgroups

    # The generator's own outputs, for the Swift generator's tests.
    x = Xoshiro256StarStar(seed=SEED)
    first = [str(x.next()) for _ in range(8)]
    bounds = [1, 2, 3, 7, 10, 300, 1000, 2 ** 31 - 1, 2 ** 62 + 12345]
    x = Xoshiro256StarStar(seed=SEED)
    draws = [[b, x.index_below(b)] for b in bounds for _ in range(3)]
    sm = SplitMix64(1234567)
    published = {"splitmix64_1234567": [str(sm.next()) for _ in range(5)]}
    xs = Xoshiro256StarStar(state=[1, 2, 3, 4])
    published["xoshiro256starstar_state_1_2_3_4"] = [str(xs.next()) for _ in range(10)]

    expected = {
        "generated_by": "tools/stats_make_fixtures.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
                     "statsmodels": statsmodels.__version__, "pROC": proc_version},
        "level": LEVEL, "bins": BINS, "seed": SEED, "resamples": RESAMPLES,
        "generator": {"seed": SEED, "first_outputs": first, "index_below": draws, "published": published},
        "normal_quantiles": [[p, float(norm.ppf(p))] for p in [1e-10, 0.001, 0.02, 0.025, 0.1, 0.5, 0.9, 0.975,
                                                                 0.98, 0.999, 1 - 1e-10]],
        "cases": cases,
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
