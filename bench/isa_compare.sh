#!/usr/bin/env bash
# The same tikhon command at oneDNN's default ISA choice and under ONEDNN_MAX_CPU_ISA=AVX (Tikhon's cap until
# 2026-12-04), alternating in one run (the order swaps each round), then the ratio of the medians.
#   bench/isa_compare.sh ROUNDS METRIC ARGS...
#   e.g. bench/isa_compare.sh 5 steps_per_second bench train-step --model cnn --threads 2
#        bench/isa_compare.sh 3 images_per_second bench certify --threads 2
# TIKHON=path overrides the launcher (e.g. a copy of the jars, so that a rebuild cannot happen mid-run).
# Prints one JSON line per run, then a summary line; each figure is a ratio measured under the same load.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tikhon="${TIKHON:-$root/tikhon}"
rounds="$1"; metric="$2"; shift 2
"$tikhon" --help >/dev/null   # build first, untimed
out="$(mktemp -d)"
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then order="default AVX"; else order="AVX default"; fi
  for cfg in $order; do
    if [[ "$cfg" == default ]]; then env -u ONEDNN_MAX_CPU_ISA "$tikhon" "$@" >"$out/$cfg-$r.json"
    else ONEDNN_MAX_CPU_ISA=AVX "$tikhon" "$@" >"$out/$cfg-$r.json"; fi
    python3 - "$out/$cfg-$r.json" "$cfg" "$r" "$metric" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
row = {"isa": sys.argv[2], "round": int(sys.argv[3]), sys.argv[4]: m[sys.argv[4]], "load_1min": float(sys.argv[5])}
for k in ("gflops", "matmul_ceiling_gflops", "fraction_of_ceiling"):
    if k in m: row[k] = round(m[k], 4)
print(json.dumps(row))
PY
  done
done | tee "$out/rows.jsonl"
python3 - "$out/rows.jsonl" "$metric" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
metric = sys.argv[2]
med = {c: statistics.median(r[metric] for r in rows if r["isa"] == c) for c in ("default", "AVX")}
per_round = [a[metric] / b[metric] for a in rows if a["isa"] == "default" for b in rows if b["isa"] == "AVX" and b["round"] == a["round"]]
s = {"summary": metric, "median_default": med["default"], "median_avx": med["AVX"], "ratio_of_medians": med["default"] / med["AVX"],
     "per_round_ratios": [round(x, 3) for x in per_round], "rounds": len(per_round),
     "load_1min": [r["load_1min"] for r in rows]}
for k in ("fraction_of_ceiling", "matmul_ceiling_gflops", "gflops"):
    v = [r[k] for r in rows if r["isa"] == "default" and k in r]
    if v: s["median_default_" + k] = statistics.median(v)
print(json.dumps(s))
PY
rm -rf "$out"
