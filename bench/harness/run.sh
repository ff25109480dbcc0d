#!/bin/bash
# Micro-harnesses behind some figures of docs/benchmarks.md: they call package-private classes, so they are compiled
# against the built jar here rather than shipped in it. Usage (after mvn -pl core package -DskipTests):
#   bench/harness/run.sh dev.tikhon.attack.PgdParts
#   bench/harness/run.sh dev.tikhon.attack.ProjectionTime
#   bench/harness/run.sh dev.tikhon.optim.UpdateTime [threads] [sgd|adam]
#   bench/harness/run.sh dev.tikhon.attack.NativeObjects
#   bench/harness/run.sh dev.tikhon.attack.CwTargets RUN_DIR [images] [steps] [targets] [threads]
#   bench/harness/run.sh dev.tikhon.verify.AlphaSteps RUN_DIR [images] [norm] [eps] [threads] [steps,…] [lr,…]
#   bench/harness/run.sh dev.tikhon.verify.AlphaMemory crown|alpha-crown [images] [steps] [norm]
#   bench/harness/run.sh dev.tikhon.verify.BabSettings RUN_DIR [images] [norm] [eps] [threads] [domains] [configs]
#   bench/harness/run.sh dev.tikhon.verify.InputSplitDims [dims 2,4,8,16] [networks] [domains] [relu|tanh] [threads]
#   bench/harness/run.sh dev.tikhon.verify.RoundingCost RUN_DIR [images] [eps] [threads] [rounds] [data]
#   bench/harness/run.sh dev.tikhon.verify.ActivationMlp silu|gelu|elu|leaky-relu|hard-swish OUT.onnx [widths] [input shape] [classes] [seed]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cp="$root/core/target/tikhon.jar:$root/core/target/lib/*"
out="$(mktemp -d)"
javac -d "$out" -cp "$cp" $(find "$root/bench/harness" -name '*.java')
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912 OPENBLAS_THREAD_TIMEOUT=4
java -cp "$out:$cp" "$@" 2>&1 | grep --line-buffered -v '^WARNING'
