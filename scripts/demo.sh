#!/usr/bin/env bash
# The demo: a full audit of the shipped demo models on generated cohorts.
#   1. generates the reference cohort (scanner A, with healthy pulsatile-artifact cases) and a
#      new-scanner cohort (scanner B) as real DICOM, when missing;
#   2. runs demo-v1 and demo-v2 on the reference cohort and demo-v2 on the new scanner;
#   3. evaluates v2 against v1 (patients and, from the generator's truth, slices), judges the
#      nightly regression gates, checks drift on the new scanner, computes the failure-mode
#      flags, renders the QA reports (reference cohort with the gates; new scanner with the
#      drift section) and the failure-case gallery (healthy called sick).
# Everything lands in demo-out/ (the store demo-out/audit.sqlite, PDFs, JSON verdicts).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/mlung-audit}
OUT=${OUT:-demo-out}
V1=models/demo-v1.safetensors
V2=models/demo-v2.safetensors
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

if [ ! -f "$OUT/cohort-a/manifest.csv" ]; then
  step "Generating the reference cohort (scanner A)"
  rm -rf "$OUT/cohort-a"
  # The held-out cohort of models/README.md (tools/train_demo_models.py: seed 2024 + 1).
  "$BIN" synth --out "$OUT/cohort-a" --patients 60 --seed 2025 --profile scanner-a --mix "healthy=0.4,covid19=0.2,h1n1=0.2,cap=0.2" --artifact-rate 0.3 --id-prefix H
fi
if [ ! -f "$OUT/cohort-b/manifest.csv" ]; then
  step "Generating the new-scanner cohort (scanner B)"
  rm -rf "$OUT/cohort-b"
  # The new-scanner cohort of models/README.md (seed 2024 + 2).
  "$BIN" synth --out "$OUT/cohort-b" --patients 40 --seed 2026 --profile scanner-b --mix "healthy=0.4,covid19=0.2,h1n1=0.2,cap=0.2" --artifact-rate 0.3 --id-prefix N
fi

DB="$OUT/audit.sqlite"
# A fresh store each time, so run ids are 1, 2, 3 below.
rm -f "$DB" "$DB-wal" "$DB-shm"
step "Audit run: demo-v1 on the reference cohort"
"$BIN" run --cohort "$OUT/cohort-a/manifest.csv" --model "$V1" --db "$DB" --label demo-v1
step "Audit run: demo-v2 on the reference cohort"
"$BIN" run --cohort "$OUT/cohort-a/manifest.csv" --model "$V2" --db "$DB" --label demo-v2
step "Audit run: demo-v2 on the new scanner"
"$BIN" run --cohort "$OUT/cohort-b/manifest.csv" --model "$V2" --db "$DB" --label demo-v2-scanner-b

step "Statistics: demo-v2 against demo-v1 (run 2 vs run 1)"
# The generator's slices.csv carries per-slice lesion truth: slice-level metrics of the lesion head.
"$BIN" evaluate --run 2 --baseline 1 --db "$DB" --subgroup artifact --slice-labels "$OUT/cohort-a/slices.csv"
"$BIN" evaluate --run 2 --baseline 1 --db "$DB" --subgroup artifact --slice-labels "$OUT/cohort-a/slices.csv" --json > "$OUT/evaluation.json"

step "Nightly regression gate: demo-v2 against the accepted demo-v1 run"
cat > "$OUT/nightly.yaml" <<YAML
# The demo's nightly configuration (see templates/nightly.yaml for every key).
model: $PWD/$V2
store: audit.sqlite
cohorts:
  - name: reference-scanner-a
    manifest: cohort-a/manifest.csv
    slice_labels: cohort-a/slices.csv
    baseline_run: "1"
statistics: {seed: 20200, bootstrap: 2000, subgroups: [artifact, profile]}
verdict: nightly-verdict.json
gates:
  - {metric: accuracy, max_drop: 0.02, alpha: 0.05}
  - {no_new_misses: covid19}
  - {metric: sensitivity.covid19, min: 0.5}
  - {metric: fpe, max: 0.5}
YAML
status=0
"$BIN" nightly --config "$OUT/nightly.yaml" > /dev/null || status=$?
case $status in
  0) echo "nightly gate: PASS ($OUT/nightly-verdict.json)" ;;
  3) echo "nightly gate: FAIL, a gate failed ($OUT/nightly-verdict.json)" ;;
  4) echo "nightly gate: a gate could not be judged ($OUT/nightly-verdict.json)" ;;
  *) exit $status ;;
esac

step "Drift: the new scanner (run 3) against the reference (run 2)"
status=0
"$BIN" drift --reference 2 --candidate 3 --db "$DB" --json > "$OUT/drift.json" || status=$?
"$BIN" drift --reference 2 --candidate 3 --db "$DB" | sed -n '1,4p' || true
case $status in
  0) echo "(no drift)" ;;
  10) echo "(exit 10: drift in the inputs only)" ;;
  11) echo "(exit 11: drift that reaches the model's outputs)" ;;
  *) exit $status ;;
esac

step "Failure-mode flags: demo-v2 on both scanners"
"$BIN" flags --run 2 --baseline 1 --db "$DB"
"$BIN" flags --run 3 --reference 2 --db "$DB" > /dev/null

step "QA reports and failure-case gallery"
# The reference-cohort report carries the nightly gates on its cover (the nightly reran
# demo-v2 on the same cohort); the new-scanner report carries the drift section.
"$BIN" report --run 2 --baseline 1 --db "$DB" --verdict "$OUT/nightly-verdict.json" --out "$OUT/qa-report.pdf"
"$BIN" report --run 3 --drift-reference 2 --db "$DB" --out "$OUT/qa-report-scanner-b.pdf"
"$BIN" gallery --run 2 --baseline 1 --db "$DB" --filter fp --out "$OUT/gallery.pdf"

step "Done"
echo "store:   $DB"
echo "report:  $OUT/qa-report.pdf (new scanner: $OUT/qa-report-scanner-b.pdf)"
echo "gallery: $OUT/gallery.pdf"
echo "metrics: $OUT/evaluation.json"
echo "nightly: $OUT/nightly-verdict.json"
echo "drift:   $OUT/drift.json"
