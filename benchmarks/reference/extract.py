"""torchvision side of the extraction benchmarks: VGG16 fc7 and ResNet-50 pooled features, random weights, images
decoded with PIL and transformed with the recipe's Resize((224, 224)) + ToTensor + Normalize, as the recipe does.
Vgg16Mkldnn/ResNet50Mkldnn: the same networks and weights with the convolutional trunk fed oneDNN-layout activations,
the choice our CPU extractors make, so the table also shows the like-for-like ratio.

usage:
  extract.py make-images DIR COUNT   writes COUNT Flickr-sized (500x375) JPEGs, quality 90, into DIR
  extract.py run DIR                 times both networks over the JPEGs of DIR and prints one JSON line per case

Threads come from IMAGECAPTIONING_NUM_THREADS (torch intra-op threads; the comparison script sets the same value
for both sides). Decoding runs in IMAGECAPTIONING_DECODE_WORKERS DataLoader workers (default 0: in the main thread,
like the recipe's loop). Batch size: IMAGECAPTIONING_BATCH (default 16).
"""
import glob
import json
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

from timing import median_seconds

RECIPE = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def make_images(directory, count):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    h, w = 375, 500
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    for i in range(count):
        r = 128 + 100 * np.sin(xx / (17.0 + i)) * np.cos(yy / 29.0)
        g = 128 + 90 * np.cos((xx + yy) / (13.0 + i))
        b = 128 + 60 * np.sin((xx - yy) / 41.0)
        img = np.stack([r, g, b], axis=-1) + rng.normal(0, 8, size=(h, w, 3))
        Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8), "RGB").save(
            os.path.join(directory, f"bench_{i:04d}.jpg"), quality=90)


class Images(torch.utils.data.Dataset):
    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as image:
            return RECIPE(image.convert("RGB"))


def extract_all(model, loader, device):
    features = []
    with torch.no_grad():
        for batch in loader:
            features.append(model(batch.to(device)).cpu())
    return torch.cat(features)


class Blocked(torch.nn.Module):
    """A torchvision network whose convolutional trunk gets its activations in oneDNN's blocked layout (weights
    unchanged), as our extractors run on the CPU; the pooling head gets strided ones."""

    def __init__(self, trunk, head):
        super().__init__()
        self.trunk, self.head = trunk, head

    def forward(self, x):
        return self.head(self.trunk(x.to_mkldnn()).to_dense())


def blocked_vgg16(vgg):
    return Blocked(vgg.features, torch.nn.Sequential(vgg.avgpool, torch.nn.Flatten(1), vgg.classifier))


def blocked_resnet50(r):
    trunk = torch.nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4)
    return Blocked(trunk, torch.nn.Sequential(r.avgpool, torch.nn.Flatten(1), r.fc))


def run(directory):
    threads = int(os.environ.get("IMAGECAPTIONING_NUM_THREADS", os.cpu_count()))
    workers = int(os.environ.get("IMAGECAPTIONING_DECODE_WORKERS", "0"))
    batch = int(os.environ.get("IMAGECAPTIONING_BATCH", "16"))
    repeat = int(os.environ.get("IMAGECAPTIONING_REPEAT", "3"))
    torch.set_num_threads(threads)
    paths = sorted(glob.glob(os.path.join(directory, "*.jpg")))
    loader = torch.utils.data.DataLoader(Images(paths), batch_size=batch, num_workers=workers)

    torch.manual_seed(0)
    vgg = torchvision.models.vgg16().eval()
    vgg.classifier[6] = torch.nn.Identity()
    resnet = torchvision.models.resnet50().eval()
    resnet.fc = torch.nn.Identity()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    # The recipe's networks given the layout choice our CPU extractors make (a like-for-like row beside the
    # recipe's), timed before the networks move to a GPU.
    cases = [("cpu", "Vgg16", vgg), ("cpu", "ResNet50", resnet),
             ("cpu", "Vgg16Mkldnn", blocked_vgg16(vgg)), ("cpu", "ResNet50Mkldnn", blocked_resnet50(resnet))]
    cases += [(device, name, model) for device in devices[1:] for name, model in [("Vgg16", vgg), ("ResNet50", resnet)]]
    for device, name, model in cases:
        model.to(device)
        seconds = median_seconds(lambda: extract_all(model, loader, device), repeat)
        print(json.dumps({"case": name, "device": device, "images": len(paths), "median_s": seconds,
                          "images_per_s": len(paths) / seconds, "threads": torch.get_num_threads(),
                          "decode_workers": workers, "batch": batch}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "make-images":
        make_images(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "run":
        run(sys.argv[2])
    else:
        raise SystemExit(__doc__)
