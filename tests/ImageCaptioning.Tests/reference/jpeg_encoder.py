"""Independent reference for the JpegEncoder tests: what PIL makes of a JPEG we wrote, and what PIL itself writes
for the same pixels and quality.

usage: jpeg_encoder.py OUR_JPEG RAW_RGB WIDTH HEIGHT QUALITY OUT_DIR

Writes into OUT_DIR:
  ours.rgb   PIL's Image.open(OUR_JPEG).convert("RGB") pixels, raw HWC uint8
  pil.jpg    PIL's own encoding of RAW_RGB at QUALITY (baseline, 4:2:0, as JpegEncoder promises)
  pil.rgb    PIL's decoding of pil.jpg
and prints JSON: {"ours": INFO, "pil": INFO}, INFO = {"format", "mode", "width", "height", "subsampling",
"progressive", "quantization": {table id: [64 values]}}.
"""
import json
import os
import sys

from PIL import Image, JpegImagePlugin

ours_path, raw_path, width, height, quality, out_dir = sys.argv[1:7]
width, height, quality = int(width), int(height), int(quality)


def info(path):
    with Image.open(path) as im:
        im.load()
        return {
            "format": im.format,
            "mode": im.mode,
            "width": im.size[0],
            "height": im.size[1],
            "subsampling": JpegImagePlugin.get_sampling(im),
            "progressive": bool(im.info.get("progressive", 0)),
            "quantization": {str(k): list(v) for k, v in im.quantization.items()},
        }


def decode(path, out):
    with Image.open(path) as im:
        with open(out, "wb") as f:
            f.write(im.convert("RGB").tobytes())


with open(raw_path, "rb") as f:
    source = Image.frombytes("RGB", (width, height), f.read())
pil_path = os.path.join(out_dir, "pil.jpg")
# subsampling=2 is 4:2:0; PIL's default DCT is libjpeg's accurate integer one.
source.save(pil_path, "JPEG", quality=quality, subsampling=2)

decode(ours_path, os.path.join(out_dir, "ours.rgb"))
decode(pil_path, os.path.join(out_dir, "pil.rgb"))
print(json.dumps({"ours": info(ours_path), "pil": info(pil_path)}))
