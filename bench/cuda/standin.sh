#!/bin/bash
# Builds a stand-in for the carried payload from this checkout, so that run.sh can be dry-run here:
#   bench/cuda/standin.sh /tmp/standin && P=/tmp/standin OUT=/tmp/dry QUICK=1 GDEV=cpu PY=/usr/bin/python3 bash bench/cuda/run.sh
# (about 7 minutes on 2 cores; attack-cpu, at 16 threads on 2 cores, runs into its timeout).
set -euo pipefail
P=${1:?usage: standin.sh DIR}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ -f "$root/core/target/tikhon.jar" ] || { echo "standin: build first (mvn -pl core package -DskipTests)" >&2; exit 2; }
rm -rf "$P" && mkdir -p "$P/pl/app" "$P/pl/jre/bin" "$P/pl/data" "$P/pl/fonts" "$P/pl/syslib"
cp "$root/core/target/tikhon.jar" "$P/pl/app/"
ln -s "$root/core/target/lib" "$P/pl/app/lib"
ln -s "$(readlink -f "$(command -v java)")" "$P/pl/jre/bin/java"
ln -s "${TIKHON_DATA:-/usr/share/datasets/fashion-mnist}" "$P/pl/data/fashion-mnist"
cp /etc/fonts/fonts.conf "$P/pl/fonts/" 2>/dev/null || touch "$P/pl/fonts/fonts.conf"
echo "stand-in payload in $P"
