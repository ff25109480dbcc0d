#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for Tikhon, then runs the headline job on Fashion-MNIST:
# train the small CNN for three epochs (accurate, brittle), heat-smooth it without labels into its
# own Gaussian average, and certify it (one forward pass per image, plus Cohen's Monte Carlo
# certificate of the smoothed model). As root it installs what is missing (JDK 17, Maven, the
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

# Each step resumes or reuses its output when rerun (train and smooth keep checkpoints, certify its images).
./tikhon train --model cnn --epochs 3 --resume --out runs/quickstart
./tikhon eval --checkpoint runs/quickstart --force --out runs/quickstart/eval
./tikhon smooth --checkpoint runs/quickstart --sigma 0.25 --kappa 3 --subset 20000 --resume --out runs/quickstart/heat
./tikhon certify --method heat --checkpoint runs/quickstart/heat --images 100 --n 2000 --resume \
  --out runs/quickstart/certify
echo "quickstart: open runs/quickstart/certify/index.html (certified accuracy per radius),"
echo "            runs/quickstart/index.html (training) and runs/quickstart/eval/index.html"
