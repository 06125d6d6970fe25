#!/usr/bin/env bash
# Packs the NuGet packages: ImageCaptioning (with its buildTransitive load fix), ImageCaptioning.Torch and
# ImageCaptioning.Synthetic, each with README, LICENSE, XML docs and a .snupkg symbol package; none carries a native
# library.
#   scripts/pack.sh [output folder, default artifacts/packages] [extra dotnet pack arguments, e.g. -p:Version=0.2.0]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# A folder given is relative to where the script is called from.
output=$(realpath -m "${1:-$root/artifacts/packages}")
shift || true
cd "$root"

scripts/setup.sh
dotnet pack ImageCaptioning.sln -c Release -o "$output" "$@"
ls -l "$output"
