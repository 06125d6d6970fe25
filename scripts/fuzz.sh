#!/usr/bin/env bash
# The long fuzz run: every fuzz test (NUnit category Fuzz) with many more damaged files per kind than CI's 300, and a
# table of the outcomes per kind. CI runs the same tests with the defaults (tests/Shared/Fuzzing/FuzzSettings.cs).
#   scripts/fuzz.sh [CASES [SEED]]   (default 5000 cases per kind, seed 1); needs a Release build (./build.sh build)
set -euo pipefail
cd "$(dirname "$0")/.."

cases=${1:-5000}
seed=${2:-1}
report=$(mktemp)
trap 'rm -f "$report"' EXIT

export OMP_WAIT_POLICY=PASSIVE
status=0
for project in tests/ImageCaptioning.Torch.Tests tests/ImageCaptioning.Tests; do
  IMAGECAPTIONING_FUZZ_CASES=$cases IMAGECAPTIONING_FUZZ_SEED=$seed IMAGECAPTIONING_FUZZ_REPORT=$report \
    dotnet test "$project" -c Release --no-build --filter "TestCategory=Fuzz" || status=1
done

echo
echo "fuzz run: $cases cases per kind, seed $seed, $(date -u +%F), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
echo "| file | cases | clean error | refused by a check | identical | loaded different |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
awk -F'\t' '{ printf "| %s | %d | %d | %d | %d | %d |\n", $1, $2, $3, $4, $5, $6 }' "$report"
exit $status
