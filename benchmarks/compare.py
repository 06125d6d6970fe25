#!/usr/bin/env python3
"""Runs, per category, the Python/PyTorch reference and the BenchmarkDotNet cases in one invocation, on the same
machine with the same thread settings, and prints one table with two references per case:

  (a) python3-torch running the recipe (benchmarks/reference/*.py, /usr/bin/python3);
  (b) the recipe written by hand in TorchSharp, as a user following the PyTorch notebook would (the HandWritten* and
      TorchVision* cases of the BenchmarkDotNet suite, so ours and (b) come from the same BenchmarkDotNet run).

    /usr/bin/python3 benchmarks/compare.py [--categories interop,generation,...] [--job short|default]
                                            [--markdown benchmarks/RESULTS.md] [--no-build]
                                            [--pretrained-configs tiny,blip-tiny,full,blip-base]

Everything gets IMAGECAPTIONING_NUM_THREADS (default: all cores) intra-op threads and OMP_WAIT_POLICY=PASSIVE,
which the library also applies by default; OPENBLAS_CORETYPE is passed through unchanged. Speed-up = reference time
/ our time per operation (both do the same work per operation): above 1.0 we are faster. The suite is built once,
then run without rebuilding; --no-build skips that build too (for binaries fixed up after building).

The pretrained category (benchmarks/reference/pretrained.py, PretrainedBenchmarks) gets its own table in captions per
second: ViT-GPT-2 and BLIP checkpoints with random weights, "tiny" and "blip-tiny" by default, the full sizes ("full":
ViT-base/16 + GPT-2 small, "blip-base") with --pretrained-configs. Both sides read the same folders, made once under
IMAGECAPTIONING_PRETRAINED_BENCH (default: the temporary folder's ic-pretrained-bench; the full sizes take about 2 GB).
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCES = {
    "interop": "interop.py",
    "generation": "generation.py",
    "train-step": "train_step.py",
    "decode": "decode.py",
    "extract": "extract.py",
    "images": "images.py",
    "attention": "attention.py",
    "pretrained": "pretrained.py",
}
PRETRAINED_CONFIGS = "tiny,blip-tiny"


def environment(threads):
    env = dict(os.environ)
    env["IMAGECAPTIONING_NUM_THREADS"] = str(threads)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


PARAMETER_FIELDS = {"vocabulary": "Vocabulary", "device": "Device"}
PROJECT = os.path.join(ROOT, "benchmarks", "ImageCaptioning.Benchmarks")
# Reference (b) of each of our cases: the BenchmarkDotNet method doing the same work the hand-written way.
HAND_WRITTEN = {
    "FullPaddedStep": "HandWrittenPaddedStep",
    "Greedy": "HandWrittenGreedy",
    "Beam3": "HandWrittenBeam3",
    "Beam5": "HandWrittenBeam5",
    "Vgg16": "TorchVisionVgg16",
    "ResNet50": "TorchVisionResNet50",
}


def case_key(method, parameters):
    return f"{method}({parameters})" if parameters else method


def hand_written_key(case):
    method, _, rest = case.partition("(")
    if method not in HAND_WRITTEN:
        return None
    return HAND_WRITTEN[method] + ("(" + rest if rest else "")


def pretrained_key(config, batch, beams):
    # BenchmarkDotNet orders a case's parameters by name.
    return f"Caption(Batch={batch}&Beams={beams}&Config={config})"


def run_pretrained_reference(command, env):
    """Makes the missing checkpoint folders both sides read, then times every case of PretrainedBenchmarks."""
    root = env.setdefault("IMAGECAPTIONING_PRETRAINED_BENCH", os.path.join(tempfile.gettempdir(), "ic-pretrained-bench"))
    configs = env.setdefault("IMAGECAPTIONING_PRETRAINED_CONFIGS", PRETRAINED_CONFIGS)
    subprocess.run(command + ["make", root, configs], env=env, check=True, capture_output=True)
    cases = [f"{c}/{b}/{m}" for c in configs.split(",") for b in (1, 16) for m in (1, 4)]
    out = subprocess.run(command + ["run", root, ",".join(cases)], env=env, check=True, capture_output=True, text=True).stdout
    rows = {}
    for row in map(json.loads, filter(None, out.splitlines())):
        row["median_s"] = row["seconds"]
        rows[pretrained_key(*row["case"].split("/"))] = row
    return rows


def run_reference(category, env, workdir):
    """Rows of the Python/PyTorch side keyed like BenchmarkDotNet cases: Method(Param=value&...)."""
    script = os.path.join(ROOT, "benchmarks", "reference", REFERENCES[category])
    command = ["/usr/bin/python3", script]
    if category == "pretrained":
        return run_pretrained_reference(command, env)
    if category in ("extract", "images"):
        # Both sides read the same files: the reference makes them, our benchmark finds them through the variable.
        images = os.path.join(workdir, "images")
        subprocess.run(command + ["make-images", images, "32" if category == "extract" else "16"], env=env, check=True, capture_output=True)
        env["IMAGECAPTIONING_BENCH_IMAGES"] = images
        command += ["run", images]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    rows = {}
    for row in map(json.loads, filter(None, out.splitlines())):
        params = [f"{name}={row[field]}" for field, name in PARAMETER_FIELDS.items() if field in row]
        key = f"{row['case']}({'&'.join(params)})" if params and "(" not in row["case"] else row["case"]
        if "images" in row:  # extraction and images: per image, as our benchmarks report it
            row["median_s"] = row["median_s"] / row["images"]
        rows[key] = row
    return rows


def reference_blas(env):
    """The BLAS library python3-torch loads (Debian's libblas.so.3 alternative); refuses the unoptimised reference
    BLAS, which makes (a) ten times slower than a PyTorch user's and so no reference."""
    probe = ("import torch\ntorch.ones(8, 8) @ torch.ones(8, 8)\n"
             "print(sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.split()[-1]}))")
    loaded = subprocess.run(["/usr/bin/python3", "-c", probe], env=env, check=True, capture_output=True, text=True).stdout.strip()
    if "openblas" not in loaded and "mkl" not in loaded:
        raise SystemExit(f"python3-torch loads {loaded}, the reference BLAS: install libopenblas0-pthread (scripts/setup.sh) for reference (a)")
    return "OpenBLAS" if "openblas" in loaded else "MKL"


def build(env):
    log = subprocess.run(["dotnet", "build", PROJECT, "-c", "Release"], env=env, capture_output=True, text=True)
    if log.returncode != 0:
        sys.stderr.write(log.stdout[-4000:] + log.stderr[-4000:])
        raise SystemExit("building the benchmarks failed")


def read_flops(path):
    """Useful FLOPs per case (UsefulFlops.cs), as the cases' setups recorded them; the peak cases included."""
    flops = {}
    if os.path.exists(path):
        for row in map(json.loads, filter(None, open(path).read().splitlines())):
            flops[row["case"]] = row["flops"]
    return flops


def peak_rate(ours, flops):
    """The best square-SGEMM FLOP/s of this run (PeakBenchmarks), or None where the category has none."""
    rates = [flops[k] / o["median_s"] for k, o in ours.items() if k.startswith("SquareSgemm(") and o.get("median_s") and k in flops]
    return max(rates) if rates else None


def run_ours(category, env, job, artifacts):
    # In process (Program.cs): the binaries just built, with this environment.
    command = ["dotnet", "run", "--no-build", "-c", "Release", "--project", PROJECT,
               "--", "--anyCategories", category, "--exporters", "json", "--artifacts", artifacts]
    if job != "default":
        command += ["--job", job]
    log = subprocess.run(command, env=env, capture_output=True, text=True)
    if log.returncode != 0:
        sys.stderr.write(log.stdout[-4000:] + log.stderr[-4000:])
        raise SystemExit(f"BenchmarkDotNet failed for {category}")
    notes = sorted({line.strip() for line in log.stdout.splitlines() if line.strip().startswith("// ") and ("bytes per batch" in line or "skipped" in line)})
    # The tokens each pretrained case generated (its setup prints them), to show that both sides did the same work.
    tokens = {pretrained_key(*m.group(1).split("/")): int(m.group(2))
              for m in re.finditer(r"^// (\S+/\d+/\d+): (\d+) tokens$", log.stdout, re.MULTILINE)}
    results = {}
    for path in glob.glob(os.path.join(artifacts, "results", "*-report-full-compressed.json")):
        for b in json.load(open(path))["Benchmarks"]:
            key = case_key(b["Method"], b.get("Parameters"))
            stats = b.get("Statistics")
            results[key] = {
                "median_s": stats["Median"] / 1e9 if stats else None,
                "allocated": (b.get("Memory") or {}).get("BytesAllocatedPerOperation"),
                "tokens": tokens.get(key),
            }
    return results, notes


def targets(reference, ours):
    """The issues' targets as ratios from this one run (not measured where a side is missing)."""
    def t(side, key):
        return side.get(key, {}).get("median_s")
    lines = []

    def add(name, value, goal, better_high=True, what=""):
        if value is None:
            lines.append(f"| {name} | n/a | {goal} | not measured |")
            return
        bound = float(goal.split()[-1].rstrip("×"))
        met = value >= bound if better_high else value <= bound
        lines.append(f"| {name} | {value:.2f}×{what} | {goal} | {'met' if met else 'MISSED'} |")

    def tokens(vocab, case):
        return reference.get(f"{case}(Vocabulary={vocab})", {}).get("tokens_per_step")

    for vocab in (8000, 30524):
        v = f"(Vocabulary={vocab})"
        hand = t(ours, "HandWrittenPaddedStep" + v)
        # The hand-written step trains on the FullPaddedStep batch; its target tokens are that batch's.
        full = [(tokens(vocab, k) / t(ours, k + v), k) for k in ("FullPaddedStep", "FullBucketedStep") if t(ours, k + v) and tokens(vocab, k)]
        if hand and full and tokens(vocab, "FullPaddedStep"):
            best, which = max(full)
            add(f"full-sequence training tokens/s vs (b) padded, V={vocab:,}", best / (tokens(vocab, "FullPaddedStep") / hand), "≥ 2.5×",
                what=f" ({which})")
        for case, what in (("Greedy", "greedy"), ("Beam3", "beam-3"), ("Beam5", "beam-5")):
            if t(ours, case + v) and t(ours, HAND_WRITTEN[case] + v):
                add(f"{what} decoding vs (b), V={vocab:,}", t(ours, HAND_WRITTEN[case] + v) / t(ours, case + v), "≥ 1.2×")
    for net in ("Vgg16", "ResNet50"):
        key = f"{net}(Device=cpu)"
        if t(ours, key) and t(ours, hand_written_key(key)):
            add(f"{net} extraction with decode vs (b) TorchVision", t(ours, hand_written_key(key)) / t(ours, key), "≥ 1.1×")

    # The grid models (attention.py): same target tokens per step and same generated tokens on both sides, so the
    # time ratio is the tokens/s ratio. 1.5× where our design skips work the reference does: logits at padded
    # positions (transformer training), the prefix re-run of every decoding step (transformer greedy and beam). The
    # tutorial's soft-attention forward already skips finished captions, and both sides carry (h, c) when decoding.
    for key, what, goal in (("SoftAttentionStep", "soft-attention training tokens/s vs (a) the tutorial's forward", "≥ 1.0×"),
                            ("TransformerStep", "transformer training tokens/s vs (a) logits at every position", "≥ 1.5×"),
                            ("SoftAttentionGreedy", "soft-attention greedy decoding vs (a) carried (h, c)", "≥ 1.0×"),
                            ("TransformerGreedy", "transformer greedy decoding (KV cache) vs (a) prefix re-run", "≥ 1.5×"),
                            ("SoftAttentionBeam3", "soft-attention beam-3 decoding vs (a) carried (h, c)", "≥ 1.0×"),
                            ("TransformerBeam3", "transformer beam-3 decoding (KV cache) vs (a) prefix re-run", "≥ 1.5×")):
        if t(ours, key) and t(reference, key):
            add(what, t(reference, key) / t(ours, key), goal)

    speedups = sorted((t(reference, k) / o["median_s"], k) for k, o in ours.items()
                      if o.get("median_s") and t(reference, k) and not k.startswith(tuple(HAND_WRITTEN.values())))
    if speedups:
        short = [f"`{k}` {r:.2f}×" for r, k in speedups if r < 1.0]
        lines.append(f"| every row vs (a) python3-torch | lowest {speedups[0][0]:.2f}× | ≥ 1.0× | "
                     f"{'met' if not short else 'MISSED: ' + ', '.join(short)} |")

    # The earlier issues' targets that the rows above do not already cover.
    if "TinyAdd" in ours and ours["TinyAdd"].get("median_s"):
        us = ours["TinyAdd"]["median_s"] * 1e6
        lines.append(f"| tiny op, our median | {us:.2f} µs | ≤ 2 µs | {'met' if us <= 2 else 'MISSED'} |")
    for mode, goal in (("PrefixExpansion", "≥ 1.0×"), ("FullSequence", "≥ 2.0×")):
        key = f"Batches(Mode={mode}&PrefetchWorkers=0)"
        if t(ours, key) and t(reference, key):
            add(f"generator {mode} batches/s vs (a) Python", t(reference, key) / t(ours, key), goal)
    for vocab in (8000, 30524):
        v = f"(Vocabulary={vocab})"
        prefix = reference.get("PrefixStep" + v)
        full = [tokens(vocab, k) / t(ours, k + v) for k in ("FullPaddedStep", "FullBucketedStep") if t(ours, k + v) and tokens(vocab, k)]
        if prefix and full:
            add(f"full-sequence training tokens/s vs the recipe's prefix mode (a), V={vocab:,}", max(full) / prefix["tokens_per_s"], "≥ 20×")
        recipe = reference.get("RecipeGreedy" + v)
        greedy = reference.get("Greedy" + v)
        if recipe and greedy and t(ours, "Greedy" + v):
            add(f"greedy decode tokens/s vs the recipe's way (a), V={vocab:,}", greedy["tokens"] / t(ours, "Greedy" + v) / recipe["tokens_per_s"], "≥ 50×")
    for net in ("Vgg16", "ResNet50"):
        key, blocked = f"{net}(Device=cpu)", f"{net}Mkldnn(Device=cpu)"
        if t(ours, key) and t(reference, blocked):
            # Not a target: torchvision given our layout choice, to show what the layout buys and what remains.
            lines.append(f"| {net} extraction vs (a) torchvision fed the same oneDNN layout | "
                         f"{t(reference, blocked) / t(ours, key):.2f}× | like for like | informational |")
    for fmt_name, key in (("JPEG", "DecodeResizeJpeg"), ("PNG", "DecodeResizePng")):
        if t(ours, key) and t(reference, key):
            add(f"decode + Resize((224,224)) + ToTensor + Normalize images/s, {fmt_name}, ours / PIL + torchvision", t(reference, key) / t(ours, key), "≥ 1.0×")
    return lines


def pretrained_table(reference, ours):
    """Captions per second per case of the pretrained category, ours and python3-torch's, and the speed-up."""
    header = ("configuration", "batch", "beams", "ours captions/s", "(a) python3-torch captions/s", "speed-up vs (a)", "tokens ours / (a)")
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    cases = sorted({k for k in set(reference) | set(ours) if k.startswith("Caption(")},
                   key=lambda k: (lambda p: (p["Config"], int(p["Batch"]), int(p["Beams"])))(dict(x.split("=") for x in k[8:-1].split("&"))))
    for case in cases:
        p = dict(x.split("=") for x in case[8:-1].split("&"))
        o, r = ours.get(case, {}), reference.get(case, {})
        mine = int(p["Batch"]) / o["median_s"] if o.get("median_s") else None
        theirs = r.get("captions_per_second")
        lines.append(" | ".join([p["Config"], p["Batch"], p["Beams"], f"{mine:.2f}" if mine else "n/a", f"{theirs:.2f}" if theirs else "n/a",
                                 f"{mine / theirs:.2f}×" if mine and theirs else "n/a", f"{o.get('tokens', 'n/a')} / {r.get('tokens', 'n/a')}"]))
    return "\n".join("| " + l + " |" for l in lines)


def fmt(seconds):
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def engine_versions():
    """TorchSharp and libtorch of ours and of (b), as the built suite's deps.json resolved them."""
    found = {}
    for path in glob.glob(os.path.join(PROJECT, "bin", "Release", "*", "ImageCaptioning.Benchmarks.deps.json")):
        for name in json.load(open(path)).get("libraries", {}):
            package, _, version = name.partition("/")
            if package == "TorchSharp" or package.startswith("libtorch-"):
                found[package.split("-")[0]] = version
    return found.get("TorchSharp", "unknown"), found.get("libtorch", "unknown")


def libtorch_version():
    try:
        import torch  # reference (a): Debian's python3-torch
        return torch.__version__
    except ImportError:
        return "unknown"


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--categories", default=",".join(REFERENCES))
    parser.add_argument("--job", default="default", help="BenchmarkDotNet job: short for a smoke run")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--markdown", help="also write the table as markdown to this file")
    parser.add_argument("--no-build", action="store_true", help="run the benchmarks as last built")
    parser.add_argument("--pretrained-configs", help=f"pretrained configurations (default {PRETRAINED_CONFIGS}; also full, blip-base)")
    args = parser.parse_args()
    env = environment(args.threads)
    if args.pretrained_configs:
        env["IMAGECAPTIONING_PRETRAINED_CONFIGS"] = args.pretrained_configs
    if not args.no_build:
        build(env)
    blas = reference_blas(env)
    began = datetime.datetime.now()
    rows, all_reference, all_ours, notes, peaks = [], {}, {}, [], {}
    for category in args.categories.split(","):
        with tempfile.TemporaryDirectory() as workdir:
            reference = run_reference(category, env, workdir)
            flops_file = os.path.join(workdir, "flops.jsonl")
            ours, category_notes = run_ours(category, dict(env, IMAGECAPTIONING_BENCH_FLOPS=flops_file), args.job, os.path.join(workdir, "bdn"))
            flops = read_flops(flops_file)
        peak = peak_rate(ours, flops)
        if peak:
            peaks[category] = peak
        for case, count in flops.items():
            if case in ours and ours[case].get("median_s") and peak:
                ours[case]["gflops"] = count / ours[case]["median_s"] / 1e9
                ours[case]["share"] = count / ours[case]["median_s"] / peak
        all_reference.update(reference)
        all_ours.update(ours)
        notes += [f"{category}: {n[3:]}" for n in category_notes]
        if category == "pretrained":
            continue  # its own table, in captions per second
        hand_written = {k for k in ours if k.startswith(tuple(HAND_WRITTEN.values()))}
        for case in sorted((set(reference) | set(ours)) - hand_written):
            r, o = reference.get(case, {}).get("median_s"), ours.get(case, {})
            b = ours.get(hand_written_key(case) or "", {}).get("median_s")
            m = o.get("median_s")
            rows.append((category, case, m, r, b, r / m if r and m else None, b / m if b and m else None, o.get("allocated"),
                         o.get("gflops"), o.get("share")))
    minutes = (datetime.datetime.now() - began).total_seconds() / 60
    header = ("category", "case", "ours", "(a) python3-torch", "(b) hand-written TorchSharp", "speed-up vs (a)",
              "speed-up vs (b)", "ours alloc/op", "ours useful GFLOP/s", "share of SGEMM peak")
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for category, case, o, r, b, vs_a, vs_b, alloc, gflops, share in rows:
        lines.append(" | ".join([category, f"`{case}`", fmt(o), fmt(r), fmt(b), f"{vs_a:.2f}×" if vs_a else "n/a",
                                 f"{vs_b:.2f}×" if vs_b else "n/a", f"{alloc} B" if alloc is not None else "n/a",
                                 f"{gflops:.1f}" if gflops else "n/a", f"{share:.2f}" if share else "n/a"]))
    torchsharp, libtorch = engine_versions()
    stamp = (f"{datetime.date.today().isoformat()} · {cpu_name()} · {os.cpu_count()} cores · {args.threads} threads · "
             f"ours and (b): TorchSharp {torchsharp} (libtorch {libtorch}) · (a): python3-torch {libtorch_version()} on {blas} · "
             f"OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']} · OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', 'unset')} · "
             f"BenchmarkDotNet job {args.job}, in process · CPU only · {minutes:.0f} min")
    goal_lines = ["| target | measured | goal | |", "| --- | --- | --- | --- |"] + targets(all_reference, all_ours)
    for category, peak in peaks.items():
        goal_lines.append(f"| {category}: this run's best square SGEMM (the peak the shares divide by) | {peak / 1e9:.1f} GFLOP/s | measured | informational |")
    steps = [(o["share"], k) for k, o in all_ours.items() if o.get("share") and k.startswith(("FullPaddedStep", "FullBucketedStep"))]
    if steps:
        best, which = max(steps)
        goal_lines.append(f"| full-sequence training step, share of SGEMM peak (best: `{which}`) | {best:.2f} | ≥ 0.7 | {'met' if best >= 0.7 else 'MISSED'} |")
    pretrained = ("\n" + pretrained_table(all_reference, all_ours) + "\n") if "pretrained" in args.categories.split(",") else ""
    generic = ("\n".join("| " + l + " |" for l in lines) + "\n") if rows else ""
    table = (stamp + "\n\n" + generic + pretrained + "\n" + "\n".join(goal_lines) + "\n"
             + "".join(f"\n- {n}" for n in notes) + ("\n" if notes else ""))
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
