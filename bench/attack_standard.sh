#!/usr/bin/env bash
# Robust accuracy of the AutoAttack-standard ensemble (APGD-CE, APGD-T, FAB-T, Square; 100 steps, 9 targets, 5,000
# queries) against the ensemble Tikhon ran before issue 22 (apgd-ce,apgd-t,square with 1,000 queries for ℓ∞;
# apgd-ce,apgd-t,ddn for ℓ2), with each member's contribution, on the undefended and the PGD-trained small CNN.
#   bench/attack_standard.sh UNDEFENDED_CKPT PGD_CKPT [IMAGES] [OUTDIR]
#   CONFIGS="U-linf-new P-linf-new" bench/attack_standard.sh …   runs only those configurations
#   DATA=fashion-mnist bench/attack_standard.sh …   the test images of another data set (default: the bundled sample)
#   RESUME=1 bench/attack_standard.sh … OUTDIR   continues stopped runs in OUTDIR (their CPU times then cover the rest only)
# Models: ./tikhon train --model cnn --data fashion-mnist-sample --epochs 3 --threads 1 --seed 0 --out runs/cnn
#         ./tikhon train --model cnn --data fashion-mnist-sample --reg pgd --norm linf --eps 0.1 --pgd-steps 5 --epochs 3 …
# Prints one JSON line per run: robust accuracy, per-member counts, CPU seconds per image (user + sys).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
undefended="$1"; pgd="$2"; images="${3:-1000}"; out="${4:-$(mktemp -d)}"
"$root/tikhon" --help >/dev/null   # build first, untimed
for cfg in ${CONFIGS:-U-linf-new U-linf-old U-l2-new U-l2-old P-linf-new P-linf-old P-l2-new P-l2-old}; do
  case "$cfg" in U-*) ckpt="$undefended" ;; P-*) ckpt="$pgd" ;; esac
  case "$cfg" in
    *-linf-new) extra=(--norm linf --eps 8/255 --member-contributions) ;;
    *-linf-old) extra=(--norm linf --eps 8/255 --attack apgd-ce,apgd-t,square --queries 1000) ;;
    *-l2-new)   extra=(--norm l2 --eps 0.5 --member-contributions) ;;
    *-l2-old)   extra=(--norm l2 --eps 0.5 --attack apgd-ce,apgd-t,ddn) ;;
  esac
  /usr/bin/time -f "%U %S" -o "$out/$cfg.time" "$root/tikhon" attack --checkpoint "$ckpt" --data "${DATA:-fashion-mnist-sample}" --limit "$images" \
      ${RESUME:+--resume} --threads 1 --seed 0 --no-min-distance --no-bounds "${extra[@]}" --out "$out/$cfg" >/dev/null 2>&1
  python3 - "$out/$cfg/metrics.json" "$cfg" "$out/$cfg.time" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); user, sys_ = map(float, open(sys.argv[3]).read().split()[-2:])
a = m["attacks"]
print(json.dumps({"config": sys.argv[2], "n": m["n"], "clean_accuracy": m["clean_accuracy"], "robust_accuracy": m["robust_accuracy"],
                  "first_broken_by": a.get("points_first_broken_by_member"), "broken_by": a.get("points_broken_by_member"),
                  "broken_only_by": a.get("points_broken_only_by_member"), "cpu_seconds_per_image": round((user + sys_) / m["n"], 3),
                  "wall_ms_per_image": round(m["time"]["ms_per_image"], 1)}))
PY
done
