#!/usr/bin/env bash
# Runs the interop benchmarks on both sides in one invocation, same machine, same thread settings, and prints
# case, PyTorch median, ours median and the ratio (ours / PyTorch; below 1 means we are faster).
set -euo pipefail
cd "$(dirname "$0")/.."

export IMAGECAPTIONING_NUM_THREADS=${IMAGECAPTIONING_NUM_THREADS:-$(nproc)}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

/usr/bin/python3 benchmarks/reference/interop.py > "$out/python.jsonl"
dotnet run -c Release --project benchmarks/ImageCaptioning.Benchmarks -- \
  --anyCategories interop --exporters json --artifacts "$out/bdn" "$@" > "$out/bdn.log"

/usr/bin/python3 - "$out" <<'PY'
import glob, json, sys
out = sys.argv[1]
python = {j["case"]: j["median_s"] for j in map(json.loads, open(f"{out}/python.jsonl"))}
ours = {}
for path in glob.glob(f"{out}/bdn/results/*-report-full-compressed.json"):
    for b in json.load(open(path))["Benchmarks"]:
        ours[b["Method"]] = (b["Statistics"]["Median"] / 1e9, b.get("Memory", {}).get("BytesAllocatedPerOperation"))
print(f"{'case':28} {'PyTorch median':>15} {'ours median':>15} {'ratio':>7} {'alloc/op':>9}")
for case, py in python.items():
    mine, alloc = ours[case]
    fmt = lambda s: f"{s * 1e6:.2f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"
    print(f"{case:28} {fmt(py):>15} {fmt(mine):>15} {mine / py:>6.2f}x {alloc!s:>8}B")
PY
