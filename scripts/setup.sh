#!/usr/bin/env bash
# Installs the Debian 12 packages ImageCaptioning needs, only those missing. Safe to run again.
# The engine (TorchSharp with libtorch) comes from NuGet; nothing here is needed to build or run it.
set -euo pipefail

packages=(
  # independent references for the parity tests (run with /usr/bin/python3)
  python3-torch python3-torchvision python3-nltk python3-pil python3-numpy
  # the BLAS python3-torch loads through Debian's libblas.so.3 alternative: without it (--no-install-recommends) it
  # gets the unoptimised reference BLAS, which makes the benchmarks' python3-torch side (a) no reference at all
  libopenblas0-pthread
  # headless browser for the HTML report's rendering tests (run as /usr/bin/chromium)
  chromium
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} required Debian packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup: need root to run: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
