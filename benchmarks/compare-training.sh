#!/usr/bin/env bash
# Runs the train-step and decode benchmarks on both sides in one invocation, same machine, same thread settings, and
# prints the ratios issue 5 asks for (target tokens per second; above 1 means we are faster). Extra arguments go to
# BenchmarkDotNet (e.g. --job short).
set -euo pipefail
cd "$(dirname "$0")/.."

export IMAGECAPTIONING_NUM_THREADS=${IMAGECAPTIONING_NUM_THREADS:-$(nproc)}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

/usr/bin/python3 benchmarks/reference/train_step.py > "$out/train.jsonl"
/usr/bin/python3 benchmarks/reference/decode.py > "$out/decode.jsonl"
dotnet run -c Release --project benchmarks/ImageCaptioning.Benchmarks -- \
  --anyCategories train-step decode --exporters json --artifacts "$out/bdn" "$@" > "$out/bdn.log"

/usr/bin/python3 - "$out" <<'PY'
import glob, json, sys
out = sys.argv[1]
py = {}
for name in ("train", "decode"):
    for j in map(json.loads, open(f"{out}/{name}.jsonl")):
        py[(j["case"], j["vocabulary"])] = j
ours = {}
for path in glob.glob(f"{out}/bdn/results/*-report-full-compressed.json"):
    for b in json.load(open(path))["Benchmarks"]:
        vocab = int(b["Parameters"].split("=")[1])
        ours[(b["Method"], vocab)] = b["Statistics"]["Median"] / 1e9
for vocab in (8000, 30524):
    tps = lambda case: py[(case, vocab)]["tokens_per_step"] / ours[(case, vocab)]
    pt = lambda case: py[(case, vocab)]["tokens_per_s"]
    full = max(tps("FullPaddedStep"), tps("FullBucketedStep"))
    greedy = py[("Greedy", vocab)]["tokens"] / ours[("Greedy", vocab)]
    print(f"vocabulary {vocab} (threads {py[('Greedy', vocab)]['threads']})")
    print(f"  full padded, ours / PyTorch padded          {tps('FullPaddedStep') / pt('FullPaddedStep'):8.2f}x  (tokens/s)")
    print(f"  full best, ours / PyTorch padded            {full / pt('FullPaddedStep'):8.2f}x  (target >= 2)")
    print(f"  full best, ours / recipe prefix mode        {full / pt('PrefixStep'):8.2f}x  (target >= 20)")
    print(f"  prefix step time, ours / PyTorch            {ours[('PrefixStep', vocab)] / py[('PrefixStep', vocab)]['median_s']:8.2f}x  (target <= 1.05)")
    print(f"  greedy decode, ours / PyTorch state-carried {greedy / pt('Greedy'):8.2f}x  (target >= 1)")
    print(f"  greedy decode, ours / recipe's way          {greedy / pt('RecipeGreedy'):8.2f}x  (target >= 50)")
    for width in (3, 5):
        print(f"  beam {width}: {ours[(f'Beam{width}', vocab)] * 1e3:.1f} ms per 64 images")
PY
