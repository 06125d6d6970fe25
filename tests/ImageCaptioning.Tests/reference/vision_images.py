"""Independent reference for the Vision tests: makes test images with PIL and writes what PIL and torchvision
make of them.

usage: vision_images.py OUT_DIR

Writes into OUT_DIR:
  <name>.png/.jpg/.webp/.bmp/.gif  the encoded test images
  <name>.rgb                     PIL's Image.open(p).convert("RGB") pixels, raw HWC uint8 (a GIF's first frame)
  <name>.upright.rgb             for the EXIF-oriented JPEGs: PIL's ImageOps.exif_transpose(image).convert("RGB")
  <name>.<transform>.f32         torchvision's eval transform of that image, raw little-endian float32 CHW
  unsupported.tif                the photo in a format the decoder must refuse (not in the manifest)
  manifest.json                  [{"file", "width", "height", "lossless", "rgb", "upright" (or null),
                                   "transforms": {name: {"file", "shape"}}}]
"""
import json
import os
import sys

import numpy as np
from PIL import Image, ImageOps
import torchvision.transforms as T

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
TRANSFORMS = {
    "recipe224": T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize(MEAN, STD)]),
    "standard256crop224": T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)]),
    # Exercise the less common paths: zero padding of a too-small crop, max_size capping, other statistics.
    "crop240x320": T.Compose([T.CenterCrop((240, 320)), T.ToTensor(), T.Normalize(MEAN, STD)]),
    "resize160max200crop150": T.Compose(
        [T.Resize(160, max_size=200), T.CenterCrop(150), T.ToTensor(), T.Normalize([0.5, 0.5, 0.5], [0.25, 0.3, 0.35])]
    ),
}

rng = np.random.default_rng(20240611)


def gradient(w, h):
    x = np.linspace(0, 255, w)[None, :]
    y = np.linspace(0, 255, h)[:, None]
    rgb = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1)
    return Image.fromarray(rgb.round().astype(np.uint8), "RGB")


def noise(w, h):
    return Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8), "RGB")


def photo_like(w, h):
    """Smooth shading, sharp edges, fine stripes and a little sensor noise: what photographs have."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(xx / 23.0) * np.cos(yy / 31.0)
    g = 128 + 90 * np.cos((xx + yy) / 17.0)
    b = np.where((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (min(w, h) / 3) ** 2, 220.0, 40.0)
    stripes = 40 * ((xx.astype(np.int64) // 3) % 2)
    img = np.stack([r + stripes, g, b - stripes], axis=-1) + rng.normal(0, 6, size=(h, w, 3))
    return Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8), "RGB")


def with_alpha(img):
    w, h = img.size
    alpha = (np.linspace(0, 255, w)[None, :] * np.ones((h, 1))).astype(np.uint8)
    alpha[: h // 4, :] = 0  # fully transparent pixels keep their colour in PIL's convert("RGB")
    rgba = img.convert("RGBA")
    rgba.putalpha(Image.fromarray(alpha, "L"))
    return rgba


def palette_with_transparency(img):
    p = img.quantize(colors=64)
    p.info["transparency"] = 3
    return p


def one_bit(w, h):
    return Image.fromarray((rng.integers(0, 2, size=(h, w)) * 255).astype(np.uint8), "L").convert("1")


def two_frame_gif(img):
    """A palette GIF whose second frame differs: only the first may be decoded."""
    first = img.quantize(colors=128)
    second = img.transpose(Image.Transpose.ROTATE_180).quantize(colors=128)
    return first, {"save_all": True, "append_images": [second], "duration": 100, "loop": 0}


def with_orientation(img, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return {"quality": 90, "exif": exif.tobytes()}


class Png16Rgb:
    """A 16-bit-per-sample RGB PNG, which PIL cannot write: the chunks by hand (PIL reads it as 8-bit RGB, high bytes)."""

    def __init__(self, w, h):
        self.samples = rng.integers(0, 65536, size=(h, w, 3)).astype(">u2")

    def save(self, path):
        import struct
        import zlib

        h, w, _ = self.samples.shape
        raw = b"".join(b"\x00" + self.samples[y].tobytes() for y in range(h))

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def cases():
    photo = photo_like(500, 375)
    yield "gradient_rgb.png", gradient(640, 480), {}
    yield "noise_333x517.png", noise(333, 517), {}
    yield "photo_500x375.png", photo, {}
    yield "photo_q90.jpg", photo, {"quality": 90}
    yield "photo_q90_444.jpg", photo, {"quality": 90, "subsampling": 0}
    yield "photo_progressive.jpg", photo_like(321, 457), {"quality": 90, "progressive": True}
    yield "noise_333x517_q90.jpg", noise(333, 517), {"quality": 90}
    yield "gradient_odd_q90.jpg", gradient(517, 333), {"quality": 90}
    yield "gray_300x200.png", photo_like(300, 200).convert("L"), {}
    yield "gray_q90.jpg", photo_like(301, 203).convert("L"), {"quality": 90}
    yield "rgba_257x181.png", with_alpha(photo_like(257, 181)), {}
    yield "la_190x250.png", with_alpha(photo_like(190, 250)).convert("LA"), {}
    yield "palette_199x143.png", photo_like(199, 143).quantize(colors=200), {}
    yield "palette_trns_150x150.png", palette_with_transparency(photo_like(150, 150)), {}
    yield "bilevel_120x90.png", one_bit(120, 90), {}
    yield "small_97x61.png", photo_like(97, 61), {}
    yield "tall_50x700.png", photo_like(50, 700), {}
    yield "exact_224.png", photo_like(224, 224), {}
    yield "exact_256x300_q90.jpg", photo_like(256, 300), {"quality": 90}
    yield "cmyk_q90.jpg", photo_like(211, 157).convert("CMYK"), {"quality": 90}
    yield "photo_q90_422.jpg", photo, {"quality": 90, "subsampling": 1}
    yield "photo_lossless.webp", photo_like(203, 151), {"lossless": True}
    yield "photo_q80.webp", photo_like(203, 151), {"quality": 80}
    yield "photo_rgba_lossless.webp", with_alpha(photo_like(143, 97)), {"lossless": True}
    yield "photo_24bit.bmp", photo_like(205, 99), {}
    yield "palette_8bit.bmp", photo_like(97, 83).quantize(colors=100), {}
    yield "rgb16_61x43.png", Png16Rgb(61, 43), {}
    frame, gif_args = two_frame_gif(photo_like(120, 90))
    yield "two_frames.gif", frame, gif_args
    for orientation in range(1, 9):
        yield f"exif_o{orientation}_q90.jpg", photo_like(61, 37), with_orientation(None, orientation)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    manifest = []
    for name, image, save_args in cases():
        path = os.path.join(out_dir, name)
        image.save(path, **save_args)
        stem = os.path.splitext(name)[0]
        with Image.open(path) as opened:
            rgb = opened.convert("RGB")
            upright = None
            if name.startswith("exif_"):
                upright = stem + ".upright.rgb"
                np.asarray(ImageOps.exif_transpose(opened).convert("RGB"), dtype=np.uint8).tofile(os.path.join(out_dir, upright))
        np.asarray(rgb, dtype=np.uint8).tofile(os.path.join(out_dir, stem + ".rgb"))
        entry = {
            "file": name,
            "width": rgb.width,
            "height": rgb.height,
            "lossless": name.endswith(".png") or "lossless" in name or name.endswith(".bmp") or name.endswith(".gif"),
            "rgb": stem + ".rgb",
            "upright": upright,
            "transforms": {},
        }
        for transform_name, transform in TRANSFORMS.items():
            tensor = transform(rgb).contiguous()
            out_name = f"{stem}.{transform_name}.f32"
            tensor.numpy().astype("<f4").tofile(os.path.join(out_dir, out_name))
            entry["transforms"][transform_name] = {"file": out_name, "shape": list(tensor.shape)}
        manifest.append(entry)
    unsupported = photo_like(64, 48)
    unsupported.save(os.path.join(out_dir, "unsupported.tif"))
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(len(manifest))


if __name__ == "__main__":
    main(sys.argv[1])
