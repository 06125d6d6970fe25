"""The one timing loop of the reference scripts: median seconds per call of fn over `repeat` samples, each sample
timing `inner` back-to-back calls, after `warmup` untimed calls."""
import statistics
import time


def median_seconds(fn, repeat, warmup=1, inner=1):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)
