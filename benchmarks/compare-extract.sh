#!/usr/bin/env bash
# Extraction throughput, ours against torchvision, on the same JPEGs, machine and torch threads: prints case,
# torchvision images/s, ours images/s and the ratio (ours / torchvision; above 1 means we are faster).
# Extra arguments go to BenchmarkDotNet (e.g. --job short). IMAGECAPTIONING_DECODE_WORKERS sets torchvision's
# DataLoader workers (0, the default, decodes in the main thread as the recipe does).
set -euo pipefail
cd "$(dirname "$0")/.."

export IMAGECAPTIONING_NUM_THREADS=${IMAGECAPTIONING_NUM_THREADS:-$(nproc)}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export IMAGECAPTIONING_BENCH_IMAGES="$out/images"

/usr/bin/python3 benchmarks/reference/extract.py make-images "$IMAGECAPTIONING_BENCH_IMAGES" 32
/usr/bin/python3 benchmarks/reference/extract.py run "$IMAGECAPTIONING_BENCH_IMAGES" > "$out/python.jsonl"
dotnet run -c Release --project benchmarks/ImageCaptioning.Benchmarks -- \
  --anyCategories extract --exporters json --artifacts "$out/bdn" "$@" > "$out/bdn.log"
grep -h "skipped" "$out/bdn.log" | sort -u || true

/usr/bin/python3 - "$out" <<'PY'
import glob, json, sys
out = sys.argv[1]
python = {(j["case"], "Device=" + j["device"]): j for j in map(json.loads, open(f"{out}/python.jsonl"))}
ours = {}
for path in glob.glob(f"{out}/bdn/results/*-report-full-compressed.json"):
    for b in json.load(open(path))["Benchmarks"]:
        device = b.get("Parameters", "")
        ours[(b["Method"], device)] = 1e9 / b["Statistics"]["Mean"]
print(f"{'case':10} {'params':12} {'torchvision img/s':>18} {'ours img/s':>11} {'ratio':>7}")
for (case, params), mine in sorted(ours.items()):
    py = python[(case, params)]["images_per_s"]
    print(f"{case:10} {params:12} {py:>18.2f} {mine:>11.2f} {mine / py:>6.2f}x")
first = next(iter(python.values()))
print(f"threads {first['threads']}, torchvision decode workers {first['decode_workers']}, batch {first['batch']}")
PY
