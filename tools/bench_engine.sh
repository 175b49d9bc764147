#!/usr/bin/env bash
# Benchmark: our slice network against PyTorch eager and ONNX Runtime, in the same run,
# on the same CPU threads, interleaved in rounds (the VM is noisy). Prints each measurement
# as a JSON line, then medians and ratios (peer ms / our ms: above 1 means we are faster).
#
#   tools/bench_engine.sh [--threads 2] [--rounds 3] [--batch "1 32"]
# Needs a venv with tools/requirements.txt (VENV, default /work/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=2 ROUNDS=3 BATCH="1 32"
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
VENV=${VENV:-/work/venv}
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no Python venv at $VENV (python3 -m venv $VENV && $VENV/bin/pip install -r tools/requirements.txt)" >&2; exit 1; }
swift build -c release --product mlung-audit >&2
LOG=$(mktemp)
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  .build/release/mlung-audit bench --threads "$THREADS" --batch $BATCH --repeats 3 --images 32 | tee -a "$LOG"
  "$PY" tools/bench_peers.py --threads "$THREADS" --batch $BATCH --rounds 1 --runs 3 | tee -a "$LOG"
done
"$PY" - "$LOG" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rows = [r for r in rows if "ms_per_slice" in r]
med = {}
for r in rows:
    med.setdefault((r["peer"], r["batch"]), []).append(r["ms_per_slice"])
print("\nmedian ms per slice (one window pass of the full-size slice network, 224x224, fp32)")
batches = sorted({b for _, b in med})
for b in batches:
    ours = statistics.median(med[("mlung-audit", b)])
    line = f"batch {b:3d}: mlung-audit {ours:7.2f}"
    for peer in ("pytorch-eager", "onnxruntime"):
        if (peer, b) in med:
            p = statistics.median(med[(peer, b)])
            line += f" | {peer} {p:7.2f} (ratio {p / ours:4.2f})"
    print(line)
PY
rm -f "$LOG"
