"""python3-torch side of the interop benchmarks: a tiny add and the LSTM forward [64, 31, 256], hidden 256.

Prints one JSON line per case with the median seconds per call. Threads come from IMAGECAPTIONING_NUM_THREADS
(the comparison script sets the same value, and the same OMP_WAIT_POLICY, for both sides).
"""
import json
import os
import torch

from timing import median_seconds


def main():
    torch.set_num_threads(int(os.environ.get("IMAGECAPTIONING_NUM_THREADS", os.cpu_count())))
    torch.manual_seed(0)
    a, b = torch.ones(4), torch.ones(4)
    lstm = torch.nn.LSTM(256, 256, batch_first=True).eval()
    x = torch.randn(64, 31, 256)
    h0, c0 = torch.zeros(1, 64, 256), torch.zeros(1, 64, 256)
    with torch.no_grad():
        cases = {
            "TinyAdd": median_seconds(lambda: torch.add(a, b), 30, warmup=3, inner=10000),
            "LstmForward_64x31x256": median_seconds(lambda: lstm(x, (h0, c0)), 30, warmup=3, inner=3),
        }
    for name, seconds in cases.items():
        print(json.dumps({"case": name, "median_s": seconds, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
