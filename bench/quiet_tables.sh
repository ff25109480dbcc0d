#!/usr/bin/env bash
# Reruns the comparisons behind the tables of docs/benchmarks.md in one go, for a quiet machine (nothing else
# running): each figure is a ratio of runs interleaved in one call, and each stage logs the load average before
# and after it, so a figure taken under load shows it. One JSON line per stage to OUT (default
# runs/quiet-tables.jsonl); the stages' own output to OUT.log.
#   bench/quiet_tables.sh [THREADS] [OUT]        (about 45 minutes on 2 cores)
#   STAGES="step reg" bench/quiet_tables.sh      runs only those stages
# Stages: step (CNN step vs PyTorch at THREADS and 1), reg (regularized steps vs PyTorch), farkas (Farkas vs plain
# ResNet step), pgd (PGD-20 vs PyTorch), flow (CNF iteration vs PyTorch, 1 thread), conv (conv micro-benchmark, the
# launcher's malloc vs glibc's), blas (OpenBLAS held to 1 thread vs the default, THREADS with the launcher's short
# spin, on the CNN step, with the matmul ceiling).
# The PyTorch peer is /usr/bin/python3's torch (PY overrides).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="${1:-2}"; out="${2:-$root/runs/quiet-tables.jsonl}"
py="${PY:-/usr/bin/python3}"
mkdir -p "$(dirname "$out")"
"$root/tikhon" --help >/dev/null   # build first, untimed
load() { cut -d' ' -f1 /proc/loadavg; }
stage() {   # stage NAME COMMAND...: runs it, keeps its last JSON line with the loads and the wall time
  local name="$1"; shift
  local l0 t0 res
  l0="$(load)"; t0="$(date +%s)"
  echo "=== $name: $* (load $l0, $(date -u +%T))" >>"$out.log"
  res="$( ("$@" 2>>"$out.log" || echo '{"failed": true}') | tee -a "$out.log")"
  python3 - "$name" "$l0" "$(load)" "$(( $(date +%s) - t0 ))" "$res" "$*" >>"$out" <<'PY'
import json, sys
name, l0, l1, secs, res, cmd = sys.argv[1:]
# the stage's last JSON value: one line, or pretty-printed over several (the compare_*.py scripts)
lines = res.splitlines()
starts = [i for i, line in enumerate(lines) if line.startswith("{")]
try:
    r = json.loads("\n".join(lines[starts[-1]:]))
except (ValueError, IndexError):
    r = {"unparsed": lines[-1] if lines else ""}
print(json.dumps({"stage": name, "command": cmd, "load_before": float(l0), "load_after": float(l1), "seconds": int(secs), "result": r}))
PY
  tail -1 "$out"
}
want() { [[ -z "${STAGES:-}" || " $STAGES " == *" $1 "* ]]; }
cd "$root"
if want step; then
  stage "step-t$threads" "$py" bench/compare_train_step.py --threads "$threads" --rounds 3
  stage step-t1 "$py" bench/compare_train_step.py --threads 1 --rounds 3
fi
if want reg; then
  for reg in tikhonov tikhonov-exact pgd; do
    stage "reg-$reg" "$py" bench/compare_train_step.py --reg "$reg" --steps 10 --rounds 3 --threads "$threads"
  done
fi
if want farkas; then
  stage farkas-w16-nobn ./tikhon bench train-step --model farkas-resnet --versus resnet --no-batch-norm --depth 20 --width 16 --batch 64 --steps 10 --warmup 2 --threads "$threads"
  stage farkas-w16-bn ./tikhon bench train-step --model farkas-resnet --versus resnet --batch-norm --depth 20 --width 16 --batch 64 --steps 10 --warmup 2 --threads "$threads"
  stage farkas-w4-nobn ./tikhon bench train-step --model farkas-resnet --versus resnet --no-batch-norm --depth 20 --width 4 --batch 32 --steps 10 --warmup 2 --threads "$threads"
fi
if want pgd; then
  stage pgd20 "$py" bench/compare_attack.py --threads "$threads" --rounds 3 --images 1000 --steps 20
fi
if want flow; then
  stage flow-2d "$py" bench/compare_flow_step.py --threads 1 --rounds 3 --steps 20
  stage flow-image64 "$py" bench/compare_flow_step.py --threads 1 --rounds 3 --steps 3 --data image
  stage flow-image16 "$py" bench/compare_flow_step.py --threads 1 --rounds 3 --steps 3 --data image --channels 16
fi
if want conv; then
  stage conv-forward bench/env_compare.sh 3 median_ms launcher=-TIKHON_MALLOC glibc=TIKHON_MALLOC=glibc -- bench conv --threads "$threads"
  stage conv-backward bench/env_compare.sh 3 median_ms launcher=-TIKHON_MALLOC glibc=TIKHON_MALLOC=glibc -- bench conv --backward --threads "$threads"
fi
if want blas; then
  stage blas bench/env_compare.sh 3 steps_per_second blas1=TIKHON_BLAS_THREADS=1 default=-TIKHON_BLAS_THREADS \
      -- bench train-step --model cnn --threads "$threads"
fi
