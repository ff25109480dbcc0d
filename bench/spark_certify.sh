#!/usr/bin/env bash
# Throughput of Cohen CERTIFY (images/s) on one machine and on Spark local[1] / local[2], interleaved over rounds.
#   bench/spark_certify.sh CHECKPOINT [IMAGES] [N] [ROUNDS]
#   CONFIGS="single-1thread spark-local1" bench/spark_certify.sh …   runs only those configurations
# Prints one JSON line per run: {"config":…, "round":…, "images_per_second":…, "wall_seconds":…}.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ckpt="$1"; images="${2:-40}"; n="${3:-2000}"; rounds="${4:-2}"
out="$(mktemp -d)"
common=(certify --checkpoint "$ckpt" --method cohen --images "$images" --n "$n" --seed 0)
"$root/tikhon" --help >/dev/null; "$root/tikhon" certify --help --spark local >/dev/null   # build both modules first, untimed
for r in $(seq 1 "$rounds"); do
  for cfg in ${CONFIGS:-single-1thread spark-local1 spark-local2 single-2threads}; do
    case "$cfg" in
      single-1thread)  extra=(--threads 1) ;;
      spark-local1)    extra=(--threads 1 --spark "local[1]" --spark-conf spark.ui.enabled=false) ;;
      spark-local2)    extra=(--threads 1 --spark "local[2]" --spark-conf spark.ui.enabled=false) ;;
      single-2threads) extra=(--threads 2) ;;
    esac
    "$root/tikhon" "${common[@]}" "${extra[@]}" --out "$out/$cfg-$r" >/dev/null 2>&1
    python3 - "$out/$cfg-$r/metrics.json" "$cfg" "$r" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(json.dumps({"config": sys.argv[2], "round": int(sys.argv[3]), "images_per_second": round(m["images_per_second"], 4),
                  "wall_seconds": round(m["wall_seconds"], 2), "clean_accuracy": m["result"]["clean_accuracy"]}))
PY
  done
done
rm -rf "$out"
