#!/usr/bin/env bash
# The same tikhon command under several environments, alternating in one run (the order rotates each round), then each
# environment's median and its ratio to the first one's: figures measured under the same load.
#   bench/env_compare.sh ROUNDS METRIC NAME=SETTINGS... -- ARGS...
# SETTINGS: comma-separated VAR=VALUE to set and -VAR to unset; empty for the environment as it is. E.g.
#   bench/env_compare.sh 3 steps_per_second blas1=TIKHON_BLAS_THREADS=1 default=-TIKHON_BLAS_THREADS \
#       -- bench train-step --model cnn --threads 2
# TIKHON=path overrides the launcher (e.g. a copy of the jars, so that a rebuild cannot happen mid-run).
# Prints one JSON line per run, then a summary line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tikhon="${TIKHON:-$root/tikhon}"
rounds="$1"; metric="$2"; shift 2
names=(); settings=()
while (($#)) && [[ "$1" != -- ]]; do
  [[ "$1" == *=* ]] || { echo "env_compare: '$1' is not NAME=SETTINGS" >&2; exit 2; }
  names+=("${1%%=*}"); settings+=("${1#*=}"); shift
done
[[ "${1:-}" == -- ]] || { echo "env_compare: the command's arguments follow --" >&2; exit 2; }
shift
((${#names[@]} >= 2)) || { echo "env_compare: give at least two environments" >&2; exit 2; }
"$tikhon" --help >/dev/null   # build first, untimed
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
k=${#names[@]}
for r in $(seq 1 "$rounds"); do
  for j in $(seq 0 $((k - 1))); do
    i=$(((j + r - 1) % k))
    unsets=(); sets=()   # env takes its -u options before any assignment
    IFS=',' read -ra parts <<<"${settings[$i]}"
    for p in "${parts[@]}"; do
      [[ -z "$p" ]] && continue
      if [[ "$p" == -* ]]; then unsets+=(-u "${p#-}"); else sets+=("$p"); fi
    done
    env ${unsets[@]+"${unsets[@]}"} ${sets[@]+"${sets[@]}"} "$tikhon" "$@" >"$out/$i-$r.json"
    python3 - "$out/$i-$r.json" "${names[$i]}" "$r" "$metric" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
row = {"env": sys.argv[2], "round": int(sys.argv[3]), sys.argv[4]: m[sys.argv[4]], "load_1min": float(sys.argv[5])}
for key in ("gflops", "matmul_ceiling_gflops", "fraction_of_ceiling"):
    if key in m: row[key] = round(m[key], 4)
print(json.dumps(row))
PY
  done
done | tee "$out/rows.jsonl"
python3 - "$out/rows.jsonl" "$metric" "${names[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
metric, names = sys.argv[2], sys.argv[3:]
med = {n: statistics.median(r[metric] for r in rows if r["env"] == n) for n in names}
first = names[0]
def per_round(n):
    return [round(a[metric] / b[metric], 3) for a in rows if a["env"] == n for b in rows if b["env"] == first and b["round"] == a["round"]]
s = {"summary": metric, "medians": med, "ratio_of_medians_to_" + first: {n: med[n] / med[first] for n in names[1:]},
     "per_round_ratios_to_" + first: {n: per_round(n) for n in names[1:]}, "rounds": max(r["round"] for r in rows),
     "load_1min": [r["load_1min"] for r in rows]}
for key in ("fraction_of_ceiling", "matmul_ceiling_gflops", "gflops"):
    v = {n: statistics.median(r[key] for r in rows if r["env"] == n) for n in names if any(key in r for r in rows if r["env"] == n)}
    if v: s["median_" + key] = v
print(json.dumps(s))
PY
