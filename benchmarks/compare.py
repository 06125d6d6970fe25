#!/usr/bin/env python3
"""Runs the PyTorch/Python reference and the BenchmarkDotNet cases of each category in one invocation, on the same
machine with the same thread settings, and prints one table: case, Python/PyTorch median, ours median, ratio.

    /usr/bin/python3 benchmarks/compare.py [--categories interop,generation,...] [--job short|default]
                                            [--markdown benchmarks/RESULTS.md]

Both sides get IMAGECAPTIONING_NUM_THREADS (default: all cores) intra-op threads and OMP_WAIT_POLICY=PASSIVE,
which our binding also applies by default; OPENBLAS_CORETYPE is passed through unchanged (run twice to compare
with and without it). Ratio = ours / reference time per operation: below 1.0 we are faster.
"""
import argparse
import datetime
import glob
import json
import os
import platform
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
}


def environment(threads):
    env = dict(os.environ)
    env["IMAGECAPTIONING_NUM_THREADS"] = str(threads)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


PARAMETER_FIELDS = {"vocabulary": "Vocabulary", "device": "Device"}


def run_reference(category, env, workdir):
    """Rows of the Python/PyTorch side keyed like BenchmarkDotNet cases: Method(Param=value&...)."""
    script = os.path.join(ROOT, "benchmarks", "reference", REFERENCES[category])
    command = ["/usr/bin/python3", script]
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


def run_ours(category, env, job, artifacts):
    command = ["dotnet", "run", "-c", "Release", "--project", os.path.join(ROOT, "benchmarks", "ImageCaptioning.Benchmarks"),
               "--", "--anyCategories", category, "--exporters", "json", "--artifacts", artifacts]
    if job != "default":
        command += ["--job", job]
    log = subprocess.run(command, env=env, capture_output=True, text=True)
    if log.returncode != 0:
        sys.stderr.write(log.stdout[-4000:] + log.stderr[-4000:])
        raise SystemExit(f"BenchmarkDotNet failed for {category}")
    notes = sorted({line.strip() for line in log.stdout.splitlines() if line.strip().startswith("// ") and ("bytes per batch" in line or "skipped" in line)})
    results = {}
    for path in glob.glob(os.path.join(artifacts, "results", "*-report-full-compressed.json")):
        for b in json.load(open(path))["Benchmarks"]:
            key = f"{b['Method']}({b['Parameters']})" if b.get("Parameters") else b["Method"]
            stats = b.get("Statistics")
            results[key] = {
                "median_s": stats["Median"] / 1e9 if stats else None,
                "allocated": (b.get("Memory") or {}).get("BytesAllocatedPerOperation"),
            }
    return results, notes


def targets(reference, ours):
    """The issues' targets as ratios from this one run (None where a side is missing)."""
    def t(side, key):
        return side.get(key, {}).get("median_s")
    lines = []
    def add(name, value, goal, better_high=True):
        if value is None:
            lines.append(f"| {name} | n/a | {goal} | not measured |")
        else:
            met = value >= float(goal.split()[-1].rstrip("×")) if better_high else value <= float(goal.split()[-1].rstrip("×"))
            lines.append(f"| {name} | {value:.2f}× | {goal} | {'met' if met else 'MISSED'} |")
    if "TinyAdd" in ours:
        us = ours["TinyAdd"]["median_s"] * 1e6
        lines.append(f"| tiny op, our median | {us:.2f} µs | ≤ 2 µs | {'met' if us <= 2 else 'MISSED'} |")
    if t(ours, "LstmForward_64x31x256") and t(reference, "LstmForward_64x31x256"):
        add("LSTM forward [64,31,256] time, ours / PyTorch", t(ours, "LstmForward_64x31x256") / t(reference, "LstmForward_64x31x256"), "≤ 1.05×", False)
    for mode, goal in (("PrefixExpansion", "≥ 1.0×"), ("FullSequence", "≥ 2.0×")):
        key = f"Batches(Mode={mode}&PrefetchWorkers=0)"
        if t(ours, key) and t(reference, key):
            add(f"generator {mode} batches/s, ours / Python", t(reference, key) / t(ours, key), goal)
    for vocab in (8000, 30524):
        v = f"(Vocabulary={vocab})"
        padded, prefix = reference.get("FullPaddedStep" + v), reference.get("PrefixStep" + v)
        full = [k for k in ("FullPaddedStep", "FullBucketedStep") if t(ours, k + v) and k + v in reference]
        if padded and prefix and full:
            best = max(reference[k + v]["tokens_per_step"] / t(ours, k + v) for k in full)
            add(f"full-sequence training tokens/s vs PyTorch padded, V={vocab}", best / padded["tokens_per_s"], "≥ 2.0×")
            add(f"full-sequence training tokens/s vs the recipe's prefix mode, V={vocab}", best / prefix["tokens_per_s"], "≥ 20×")
        if prefix and t(ours, "PrefixStep" + v):
            add(f"prefix-mode step time, ours / PyTorch, V={vocab}", t(ours, "PrefixStep" + v) / prefix["median_s"], "≤ 1.05×", False)
        greedy, recipe = reference.get("Greedy" + v), reference.get("RecipeGreedy" + v)
        if greedy and t(ours, "Greedy" + v):
            ours_tps = greedy["tokens"] / t(ours, "Greedy" + v)
            add(f"greedy decode tokens/s vs PyTorch state-carried, V={vocab}", ours_tps / greedy["tokens_per_s"], "≥ 1.0×")
            if recipe:
                add(f"greedy decode tokens/s vs the recipe's way, V={vocab}", ours_tps / recipe["tokens_per_s"], "≥ 50×")
    for net in ("Vgg16", "ResNet50"):
        key = f"{net}(Device=cpu)"
        if t(ours, key) and t(reference, key):
            add(f"{net} extraction images/s, ours / torchvision (CPU)", t(reference, key) / t(ours, key), "≥ 1.0×")
        blocked = f"{net}Mkldnn(Device=cpu)"
        if t(ours, key) and t(reference, blocked):
            # Not a target: torchvision given our layout choice, to show what the layout buys and what remains.
            lines.append(f"| {net} extraction images/s, ours / torchvision fed the same oneDNN layout (CPU) | "
                         f"{t(reference, blocked) / t(ours, key):.2f}× | like for like | informational |")
    for fmt_name, key in (("JPEG", "DecodeResizeJpeg"), ("PNG", "DecodeResizePng")):
        if t(ours, key) and t(reference, key):
            add(f"decode + Resize((224,224)) + ToTensor + Normalize images/s, {fmt_name}, ours / PIL + torchvision", t(reference, key) / t(ours, key), "≥ 1.0×")
    return lines


def fmt(seconds):
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def libtorch_version():
    try:
        import torch  # the same Debian libtorch our shim links
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
    args = parser.parse_args()
    env = environment(args.threads)
    rows, all_reference, all_ours, notes = [], {}, {}, []
    for category in args.categories.split(","):
        with tempfile.TemporaryDirectory() as workdir:
            reference = run_reference(category, env, workdir)
            ours, category_notes = run_ours(category, env, args.job, os.path.join(workdir, "bdn"))
        all_reference.update(reference)
        all_ours.update(ours)
        notes += [f"{category}: {n[3:]}" for n in category_notes]
        for case in sorted(set(reference) | set(ours)):
            r, o = reference.get(case, {}), ours.get(case, {})
            ratio = o["median_s"] / r["median_s"] if r.get("median_s") and o.get("median_s") else None
            rows.append((category, case, r.get("median_s"), o.get("median_s"), ratio, o.get("allocated")))
    header = ("category", "case", "Python/PyTorch median", "ours median", "time ours/ref", "ours alloc/op")
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for category, case, r, o, ratio, alloc in rows:
        lines.append(" | ".join([category, f"`{case}`", fmt(r), fmt(o), f"{ratio:.2f}×" if ratio else "n/a",
                                 f"{alloc} B" if alloc is not None else "n/a"]))
    stamp = (f"{datetime.date.today().isoformat()} · {cpu_name()} · {os.cpu_count()} cores · {args.threads} threads · "
             f"libtorch {libtorch_version()} · OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']} · "
             f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', 'unset')} · BenchmarkDotNet job {args.job} · CPU only")
    goal_lines = ["| target | measured | goal | |", "| --- | --- | --- | --- |"] + targets(all_reference, all_ours)
    table = (stamp + "\n\n" + "\n".join("| " + l + " |" for l in lines) + "\n\n" + "\n".join(goal_lines) + "\n"
             + "".join(f"\n- {n}" for n in notes) + ("\n" if notes else ""))
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
