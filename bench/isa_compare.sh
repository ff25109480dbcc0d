#!/usr/bin/env bash
# The same tikhon command at oneDNN's default ISA choice and under ONEDNN_MAX_CPU_ISA=AVX (Tikhon's cap until
# 2026-12-04), alternating in one run, then the ratio of the medians (ratio_of_medians_to_AVX.default) (bench/env_compare.sh does the work).
#   bench/isa_compare.sh ROUNDS METRIC ARGS...
#   e.g. bench/isa_compare.sh 5 steps_per_second bench train-step --model cnn --threads 2
#        bench/isa_compare.sh 3 images_per_second bench certify --threads 2
# TIKHON=path overrides the launcher (e.g. a copy of the jars, so that a rebuild cannot happen mid-run).
set -euo pipefail
rounds="$1"; metric="$2"; shift 2
exec "$(dirname "${BASH_SOURCE[0]}")/env_compare.sh" "$rounds" "$metric" AVX=ONEDNN_MAX_CPU_ISA=AVX default=-ONEDNN_MAX_CPU_ISA -- "$@"
