"""Independent reader for the feature store tests: opens a store's features.npy with numpy.load(mmap_mode='r')
and its ids.txt with plain Python, as a user of the store would.

usage: features_numpy.py STORE_DIR OUT_FILE

Writes the matrix to OUT_FILE as raw little-endian float32 (what numpy read, row-major) and prints one JSON line:
{"shape": [N, D], "dtype": "float32", "fortran_order": false, "is_memmap": true, "ids": [...], "index": {store.json},
 "rows_sha256": [...], "ids_sha256": "..."}
where rows_sha256 is hashlib's SHA-256 of each run of index["chunkRows"] committed rows (the last one shorter) and
ids_sha256 that of the committed bytes of ids.txt, as a user would check the store's digests.
"""
import hashlib
import json
import os
import sys

import numpy as np


def main(store, out_file):
    features = np.load(os.path.join(store, "features.npy"), mmap_mode="r")
    with open(os.path.join(store, "ids.txt"), encoding="utf-8") as f:
        ids = f.read().split("\n")[:-1]
    with open(os.path.join(store, "store.json"), encoding="utf-8") as f:
        index = json.load(f)
    np.ascontiguousarray(features, dtype="<f4").tofile(out_file)
    count, chunk = index["count"], index.get("chunkRows")
    rows_sha256 = [] if chunk is None else [
        hashlib.sha256(np.ascontiguousarray(features[start:min(start + chunk, count)], dtype="<f4").tobytes()).hexdigest()
        for start in range(0, count, chunk)]
    with open(os.path.join(store, "ids.txt"), "rb") as f:
        ids_sha256 = hashlib.sha256(f.read()[:index["idsBytes"]]).hexdigest()
    print(json.dumps({
        "shape": list(features.shape),
        "dtype": str(features.dtype),
        "fortran_order": bool(np.isfortran(features)),
        "is_memmap": isinstance(features, np.memmap),
        "ids": ids,
        "index": index,
        "rows_sha256": rows_sha256,
        "ids_sha256": ids_sha256,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
