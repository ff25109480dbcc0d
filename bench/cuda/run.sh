#!/bin/bash
# Tikhon CUDA check (env: P payload root, OUT results dir, GDEV device for the GPU runs, QUICK=1 tiny dry run)
set -u
P=${P:-/tmp/p}; GDEV=${GDEV:-cuda}; QUICK=${QUICK:-0}
mkdir -p "$OUT"; LOG=$OUT/log.txt
exec > >(tee -a "$LOG") 2>&1
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }
echo "### start $(date -u +%T) host=$(hostname)"
if [ ! -d "$P/pl" ]; then
  ( cd "$P/parts" && sha256sum -c --quiet "$P/parts.sha256" ) || { echo "### PART CHECKSUM FAILED / PARTS MISSING"; ls "$P/parts" | tr '\n' ' '; exit 3; }
  cat "$P"/parts/r[0-9][0-9][0-9] | tar -x -C "$P" || { echo "### UNTAR FAILED"; exit 3; }
  rm -f "$P"/parts/r[0-9][0-9][0-9]
fi
echo "### payload ready t=$(el)s"
SP=$(ls -d /opt/torch/.venv/lib/python3*/site-packages 2>/dev/null | head -1)
NV=""
[ -n "$SP" ] && [ -d "$SP/nvidia" ] && NV=$(find "$SP/nvidia" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="${NV}${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$P/pl/syslib"
export FONTCONFIG_FILE=$P/pl/fonts/fonts.conf TIKHON_DATA=$P/pl/data/fashion-mnist
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912 OPENBLAS_THREAD_TIMEOUT=4
echo "### LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "### cores $(nproc)"
export JAVA=$P/pl/jre/bin/java P
"$JAVA" -version 2>&1 | head -1
D=$P/pl/data/fashion-mnist
R=$P/runs; mkdir -p "$R"
step() { # step NAME TIMEOUT args...
  local name=$1 to=$2; shift 2
  echo; echo "=== [$name] tikhon $* (timeout ${to}s, t=$(el)s)"
  local s=$(date +%s.%N)
  # also kept in $OUT/steps.log: the summary at the end reads it (the console keeps only the tail)
  timeout -k 5 "$to" bash -c '"$JAVA" -Djava.awt.headless=true ${JOPTS:-} -cp "$P/pl/app/tikhon.jar:$P/pl/app/lib/*" dev.tikhon.cli.Main "$@"' _ "$@" 2>&1 | tee -a "$OUT/steps.log"
  local rc=${PIPESTATUS[0]}
  echo "=== [$name] rc=$rc wall=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $s}")s"
  tar -czf "$OUT/runs.tgz" -C "$P" --exclude='*.tkn' runs 2>/dev/null
  return $rc
}
if [ "$QUICK" = 1 ]; then DATA="--data fashion-mnist-sample"; CI="--images 2 --n 1000"; AL="--limit 10 --steps 10"; FS="--steps 3 --warmup 1"; BS="--steps 5 --warmup 1";
else DATA="--data-dir $D"; CI="--images 20 --n 10000"; AL="--limit 100"; FS="--steps 10 --warmup 3"; BS=""; fi
step info 90 info --data-dir "$D" --out "$R/info"
if [ "$GDEV" != cpu ] && ! grep -q '"cuda_available" *: *true' "$R/info/metrics.json" 2>/dev/null; then
  echo "### CUDA NOT AVAILABLE: diagnostics"
  JOPTS="-Dorg.bytedeco.javacpp.logger.debug=true" step info-debug 90 info
  C=$(ls -d ~/.javacpp/cache/*gpu*/org/bytedeco/pytorch/linux-x86_64-gpu 2>/dev/null | head -1); echo "cache: $C"; ls -la "$C"
  for f in libtorch_cuda.so libjnitorch_cuda.so libtorch_cpu.so libc10_cuda.so libtorch_cuda_linalg.so; do echo "--- ldd -r $f"; ldd -r "$C/$f" 2>&1 | grep -vE 'linux-vdso|libc.so|libm.so|ld-linux|libgcc_s|libstdc' | head -60; done
  step train-cuda-try 120 train --device cuda --epochs 1 $DATA --out "$R/train-cuda"
  echo "### end (no CUDA) t=$(el)s"; exit 4
fi
step train-cuda 150 train --device $GDEV --epochs 1 $DATA --out "$R/train-cuda"
step bench-step-cuda 60 bench train-step --device $GDEV $BS --out "$R/bench-step-cuda"
step bench-step-cpu 90 bench train-step --device cpu --threads 16 $BS --out "$R/bench-step-cpu"
step certify-cuda 120 certify --method cohen --checkpoint "$R/train-cuda" --sigma 0.25 $CI $DATA --device $GDEV --out "$R/certify-cuda"
# the same with 10 images per forward pass: are the certificates identical on the GPU too? (docs/certification.md)
step certify-cuda-k10 120 certify --method cohen --checkpoint "$R/train-cuda" --sigma 0.25 $CI $DATA --device $GDEV --images-per-batch 10 --out "$R/certify-cuda-k10"
notimes() { sed -E 's/,[^,]*,[^,]*$//' "$1"; }   # certify.csv without its two time columns
if diff -q <(notimes "$R/certify-cuda/certify.csv") <(notimes "$R/certify-cuda-k10/certify.csv") >/dev/null; then echo "### certify K=10: identical certificates"
else echo "### certify K=10: DIFFERENT certificates:"; diff <(notimes "$R/certify-cuda/certify.csv") <(notimes "$R/certify-cuda-k10/certify.csv") | head -20; fi
step attack-cuda 120 attack --checkpoint "$R/train-cuda" --attack pgd $AL $DATA --device $GDEV --out "$R/attack-cuda"
step train-cpu 120 train --device cpu --threads 16 --epochs 1 $DATA --out "$R/train-cpu"
step certify-cpu 120 certify --method cohen --checkpoint "$R/train-cuda" --sigma 0.25 $CI $DATA --device cpu --threads 16 --out "$R/certify-cpu"
step flow2d-cuda 45 bench flow-step --device $GDEV $FS
step flow2d-cpu 45 bench flow-step --device cpu --threads 16 $FS
step flowimg-cuda 45 bench flow-step --data image --device $GDEV $FS
step flowimg-cpu 60 bench flow-step --data image --device cpu --threads 16 $FS
step attack-cpu 120 attack --checkpoint "$R/train-cuda" --attack pgd $AL $DATA --device cpu --threads 16 --out "$R/attack-cpu"
# Side by side with PyTorch for Python (issue 25): the compare scripts alternate Tikhon and the peer in one call.
# PY: the machine's PyTorch (its venv), TIKHON_CMD: Tikhon without Maven. Each writes one JSON object to $OUT.
PY=${PY:-/opt/torch/.venv/bin/python}; [ -x "$PY" ] || PY=python3
export TIKHON_CMD="$JAVA -Djava.awt.headless=true -cp $P/pl/app/tikhon.jar:$P/pl/app/lib/* dev.tikhon.cli.Main"
cmp() { # cmp NAME TIMEOUT script args...
  local name=$1 to=$2; shift 2
  echo; echo "=== [cmp-$name] $PY $* (timeout ${to}s, t=$(el)s)"
  timeout -k 5 "$to" "$PY" "$@" > "$OUT/compare-$name.json"; echo "=== [cmp-$name] rc=$? t=$(el)s"; cat "$OUT/compare-$name.json"
}
if [ "$QUICK" = 1 ]; then CR="--rounds 1"; CS="--steps 5"; CC="--images 1 --n 500"; CA="--images 100 --batch 50"; CHS="--steps 20"; CHA="--images 10";
else CR="--rounds 2"; CS="--steps 50"; CC="--images 20 --n 10000 --noise-batch 1000"; CA="--images 5000 --batch 1000"; CHS="--steps 10000"; CHA="--images 300"; fi
cmp step128-$GDEV 120 bench/compare_train_step.py --device $GDEV --threads 16 $CR $CS --batch 128
cmp step1024-$GDEV 120 bench/compare_train_step.py --device $GDEV --threads 16 $CR $CS --batch 1024
cmp certify-$GDEV 180 bench/compare_certify.py --device $GDEV --threads 16 $CR $CC
# Tikhon certifying 10 images per forward pass (beyond eager: the peer stays one image at a time)
cmp certify-packed-$GDEV 180 bench/compare_certify.py --device $GDEV --threads 16 $CR $CC --images-per-batch 10
cmp pgd-$GDEV 150 bench/compare_attack.py --device $GDEV --threads 16 $CR $CA
# The host's cost of issuing the work, where the GPU waits on it: a tiny model at batch 1 (docs/benchmarks.md, "Host cost")
cmp host-step-$GDEV 60 bench/compare_train_step.py --device $GDEV --threads 16 $CR $CHS --batch 1 --mlp 2x16
cmp host-pgd-$GDEV 60 bench/compare_attack.py --device $GDEV --threads 16 $CR $CHA --batch 1 --model linear
# Tikhon alone: CERTIFY's time per image against the images sharing each forward pass, to choose a GPU default
for K in 1 4 10 40; do
  if [ "$QUICK" = 1 ]; then step certify-k$K 60 bench certify --device $GDEV --images 2 --n 500 --images-per-batch $K
  else step certify-k$K 60 bench certify --device $GDEV --images 40 --n 10000 --noise-batch 1000 --images-per-batch $K; fi
done
if [ "$QUICK" != 1 ]; then
  cmp step128-cpu16 120 bench/compare_train_step.py --device cpu --threads 16 $CR --steps 20 --batch 128
  cmp pgd-cpu16 150 bench/compare_attack.py --device cpu --threads 16 $CR --images 1000 --batch 250
  # the same with OpenBLAS (the 9216→128 layer) held to one thread, as before the launcher's short spin (Engine.blasThreads)
  TIKHON_BLAS_THREADS=1 cmp step128-cpu16-blas1 120 bench/compare_train_step.py --device cpu --threads 16 $CR --steps 20 --batch 128
  TIKHON_BLAS_THREADS=1 cmp pgd-cpu16-blas1 150 bench/compare_attack.py --device cpu --threads 16 $CR --images 1000 --batch 250
  # thread scaling of the CNN step against PyTorch at the same thread count (16 is step128-cpu16 above)
  for n in 1 2 4 8; do cmp step128-cpu$n 90 bench/compare_train_step.py --device cpu --threads $n $CR --steps 10 --batch 128; done
  # NCHW convolutions, as before channels-last (docs/engine.md): last, so that a short budget cuts it first
  TIKHON_CHANNELS_LAST=0 cmp step128-cpu16-nchw 120 bench/compare_train_step.py --device cpu --threads 16 $CR --steps 20 --batch 128
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.used --format=csv,noheader
# the fused optimizer kernels: info's check per device, and whether any run fell back to one tensor at a time
echo "### fused_updates: $(grep -A3 '^fused_updates:' "$OUT/steps.log" 2>/dev/null | grep -E '^ +(cpu|cuda)' | tr -s ' ' | tr '\n' ';')"
echo "### fused-kernel fallback warnings: $(grep -c 'fused optimizer kernels are not used' "$OUT/steps.log" 2>/dev/null)"
echo "### end t=$(el)s $(date -u +%T)"
