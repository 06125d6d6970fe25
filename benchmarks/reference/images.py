"""PIL + torchvision side of the image benchmarks: decode (PIL's Image.open(p).convert("RGB")) plus the recipe's
eval transform (Resize((224, 224)) + ToTensor + Normalize), one image after another in the main thread; and the
decode alone (DecodeJpeg, DecodePng), to show where the time goes.

usage:
  images.py make-images DIR COUNT   writes COUNT Flickr-sized (500x375) JPEGs (quality 90, 4:2:0) and as many PNGs
  images.py run DIR                 times both formats over the files of DIR and prints one JSON line per case

Threads come from IMAGECAPTIONING_NUM_THREADS (torch intra-op threads; the comparison script sets the same value for
both sides).
"""
import glob
import json
import os
import sys

import torch
import torchvision.transforms as T
from PIL import Image

import extract
from timing import median_seconds

RECIPE = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def make_images(directory, count):
    """The extraction benchmark's JPEGs, and each one's decoded pixels as an RGB PNG."""
    extract.make_images(directory, count)
    for path in sorted(glob.glob(os.path.join(directory, "*.jpg"))):
        with Image.open(path) as image:
            image.convert("RGB").save(os.path.splitext(path)[0] + ".png")


def decode_and_transform(paths, transform=True):
    def run():
        for path in paths:
            with Image.open(path) as image:
                rgb = image.convert("RGB")
                if transform:
                    RECIPE(rgb)
    return run


def main():
    if sys.argv[1] == "make-images":
        make_images(sys.argv[2], int(sys.argv[3]))
        return
    torch.set_num_threads(int(os.environ.get("IMAGECAPTIONING_NUM_THREADS", os.cpu_count())))
    directory = sys.argv[2]
    cases = (("DecodeResizeJpeg", "*.jpg", True), ("DecodeResizePng", "*.png", True), ("DecodeJpeg", "*.jpg", False), ("DecodePng", "*.png", False))
    for case, pattern, transform in cases:
        paths = sorted(glob.glob(os.path.join(directory, pattern)))
        seconds = median_seconds(decode_and_transform(paths, transform), repeat=15, warmup=2)
        print(json.dumps({"case": case, "median_s": seconds, "images": len(paths)}))


if __name__ == "__main__":
    main()
