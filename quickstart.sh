#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for Tikhon, then trains the small CNN on Fashion-MNIST for
# three epochs and evaluates it. As root it installs what is missing (JDK 17, Maven, the
# dataset-fashion-mnist package); without root it uses what is there and, if the data set is
# absent, the Fashion-MNIST sample bundled with Tikhon (the output says which data was used).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

need=()
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
[[ -d /usr/share/datasets/fashion-mnist || -n "${TIKHON_DATA:-}" ]] || need+=(dataset-fashion-mnist)
if ((${#need[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "quickstart: installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "quickstart: missing ${need[*]} (run as root to install them with apt-get)" >&2
    command -v java >/dev/null && command -v mvn >/dev/null || exit 2
  fi
fi

./tikhon train --model cnn --epochs 3 --out runs/quickstart
./tikhon eval --checkpoint runs/quickstart --out runs/quickstart/eval
echo "quickstart: open runs/quickstart/index.html and runs/quickstart/eval/index.html"
