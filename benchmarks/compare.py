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
}


def environment(threads):
    env = dict(os.environ)
    env["IMAGECAPTIONING_NUM_THREADS"] = str(threads)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def run_reference(category, env):
    script = os.path.join(ROOT, "benchmarks", "reference", REFERENCES[category])
    if not os.path.exists(script):
        return {}
    out = subprocess.run(["/usr/bin/python3", script], env=env, check=True, capture_output=True, text=True).stdout
    return {j["case"]: j for j in map(json.loads, filter(None, out.splitlines()))}


def run_ours(category, env, job, artifacts):
    command = ["dotnet", "run", "-c", "Release", "--project", os.path.join(ROOT, "benchmarks", "ImageCaptioning.Benchmarks"),
               "--", "--anyCategories", category, "--exporters", "json", "--artifacts", artifacts]
    if job != "default":
        command += ["--job", job]
    log = subprocess.run(command, env=env, capture_output=True, text=True)
    if log.returncode != 0:
        sys.stderr.write(log.stdout[-4000:] + log.stderr[-4000:])
        raise SystemExit(f"BenchmarkDotNet failed for {category}")
    results = {}
    for path in glob.glob(os.path.join(artifacts, "results", "*-report-full-compressed.json")):
        for b in json.load(open(path))["Benchmarks"]:
            key = f"{b['Method']}({b['Parameters']})" if b.get("Parameters") else b["Method"]
            stats = b.get("Statistics")
            results[key] = {
                "median_s": stats["Median"] / 1e9 if stats else None,
                "allocated": (b.get("Memory") or {}).get("BytesAllocatedPerOperation"),
            }
    return results


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
    rows = []
    for category in args.categories.split(","):
        reference = run_reference(category, env)
        with tempfile.TemporaryDirectory() as artifacts:
            ours = run_ours(category, env, args.job, artifacts)
        for case in sorted(set(reference) | set(ours)):
            r, o = reference.get(case, {}), ours.get(case, {})
            ratio = o["median_s"] / r["median_s"] if r.get("median_s") and o.get("median_s") else None
            rows.append((category, case, r.get("median_s"), o.get("median_s"), ratio, o.get("allocated"), r.get("note", "")))
    header = ("category", "case", "Python/PyTorch median", "ours median", "ours/ref", "ours alloc/op")
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for category, case, r, o, ratio, alloc, note in rows:
        lines.append(" | ".join([category, f"`{case}`", fmt(r), fmt(o), f"{ratio:.2f}×" if ratio else "n/a",
                                 f"{alloc} B" if alloc is not None else "n/a"]))
    stamp = (f"{datetime.date.today().isoformat()} · {cpu_name()} · {os.cpu_count()} cores · {args.threads} threads · "
             f"libtorch {libtorch_version()} · OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']} · "
             f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', 'unset')} · job {args.job}")
    table = stamp + "\n\n" + "\n".join("| " + l + " |" for l in lines) + "\n"
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
