#!/bin/bash
# recv.sh CHUNK [discover]: unpack this chunk's xz pieces into /tmp/p/parts and verify them
C=$1; S=$(date +%s.%N)
mkdir -p /tmp/p/parts; cp -f .gpu/$C/parts.sha256 /tmp/p/parts.sha256
if command -v xz >/dev/null; then UNXZ() { xz -dc "$1"; }; else UNXZ() { python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)" "$1"; }; fi
for f in .gpu/$C/r*.xz; do b=$(basename "$f" .xz); ( UNXZ "$f" > /tmp/p/parts/$b.tmp && mv /tmp/p/parts/$b.tmp /tmp/p/parts/$b ) & done; wait
cd /tmp/p/parts && sha256sum -c --ignore-missing --quiet ../parts.sha256 && echo "CHUNK $C OK: $(ls /tmp/p/parts | grep -c '^r[0-9]*$') of $(wc -l < ../parts.sha256) parts present; unpack $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $S}")s"
cd - >/dev/null; echo ".gpu on device: $(ls .gpu | tr '\n' ' ')  /tmp/p/parts: $(du -sh /tmp/p/parts | cut -f1)  xz: $(command -v xz || echo none)"
if [ "${2:-}" = discover ]; then
  nvidia-smi -L; uname -r; nproc; free -g | sed -n 2p; df -h /tmp | tail -1; command -v java zstd unzip || true
  SP=$(ls -d /opt/torch/.venv/lib/python3*/site-packages 2>/dev/null | head -1); echo "SP=$SP"
  find "$SP/nvidia" -name 'lib*.so*' 2>/dev/null | sed "s|$SP/||" | tr '\n' ' ' | head -c 3000; echo
  ls /usr/local/cuda*/lib64 2>/dev/null | tr '\n' ' ' | head -c 800; echo
  ls ~/.javacpp 2>/dev/null; ldconfig -p | grep -E 'libtorch|libcudnn|libfreetype|libfontconfig' | head
fi
