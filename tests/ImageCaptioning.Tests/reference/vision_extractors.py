"""Independent reference for the feature extractor tests: torchvision's VGG16 and ResNet-50 with random weights
(fixed seed), saved as state_dicts in both torch.save formats, and torchvision's features of a few PIL-made images.

usage: vision_extractors.py OUT_DIR

Writes into OUT_DIR:
  vgg16.zip.pth / vgg16.legacy.pth        the full vgg16 state_dict (classifier.6 included), zip and legacy format
  resnet50.zip.pth / resnet50.legacy.pth  the full resnet50 state_dict (fc included; batch-norm statistics and
                                          affine parameters randomised so that eval-mode batch norm is exercised)
  <image>.png / <image>.jpg               the test images
  inputs.f32                              torchvision's Resize((224, 224)) + ToTensor + Normalize of the images,
                                          [N, 3, 224, 224] float32
  vgg16_fc7.f32                           [N, 4096]: vgg16 with classifier[6] = Identity, eval mode
  vgg16_conv5_3.f32                       [N, 14, 14, 512]: features[:30], channels last
  resnet50_pool.f32                       [N, 2048]: resnet50 with fc = Identity, eval mode
  resnet50_layer4.f32                     [N, 7, 7, 2048]: children()[:-2] (through layer4), channels last
  manifest.json                           {"images": [...], "outputs": {name: shape}}
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
RECIPE = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize(MEAN, STD)])


def photo_like(w, h, rng):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(xx / 23.0) * np.cos(yy / 31.0)
    g = 128 + 90 * np.cos((xx + yy) / 17.0)
    b = np.where((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (min(w, h) / 3) ** 2, 220.0, 40.0)
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, size=(h, w, 3))
    return Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8), "RGB")


def save_both(state, out_dir, stem):
    torch.save(state, os.path.join(out_dir, f"{stem}.zip.pth"))
    torch.save(state, os.path.join(out_dir, f"{stem}.legacy.pth"), _use_new_zipfile_serialization=False)


def write(array, out_dir, name, outputs):
    array = np.ascontiguousarray(array, dtype="<f4")
    array.tofile(os.path.join(out_dir, name + ".f32"))
    outputs[name] = list(array.shape)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    rng = np.random.default_rng(4)
    images = []
    for name, (w, h), args in [("exact_224.png", (224, 224), {}),
                               ("exact_224_q90.jpg", (224, 224), {"quality": 90}),
                               ("photo_300x200_q90.jpg", (300, 200), {"quality": 90})]:
        photo_like(w, h, rng).save(os.path.join(out_dir, name), **args)
        images.append(name)
    with torch.no_grad():
        inputs = torch.stack([RECIPE(Image.open(os.path.join(out_dir, n)).convert("RGB")) for n in images])
    outputs = {}
    write(inputs.numpy(), out_dir, "inputs", outputs)

    torch.manual_seed(1234)
    vgg = torchvision.models.vgg16().eval()
    save_both(vgg.state_dict(), out_dir, "vgg16")
    with torch.no_grad():
        write(vgg.features[:30](inputs).permute(0, 2, 3, 1).numpy(), out_dir, "vgg16_conv5_3", outputs)
        vgg.classifier[6] = torch.nn.Identity()
        write(vgg(inputs).numpy(), out_dir, "vgg16_fc7", outputs)
    del vgg

    torch.manual_seed(5678)
    resnet = torchvision.models.resnet50().eval()
    with torch.no_grad():
        for module in resnet.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.num_batches_tracked.fill_(7)
    save_both(resnet.state_dict(), out_dir, "resnet50")
    with torch.no_grad():
        trunk = torch.nn.Sequential(*list(resnet.children())[:-2])
        write(trunk(inputs).permute(0, 2, 3, 1).numpy(), out_dir, "resnet50_layer4", outputs)
        resnet.fc = torch.nn.Identity()
        write(resnet(inputs).numpy(), out_dir, "resnet50_pool", outputs)

    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump({"images": images, "outputs": outputs}, f, indent=1)
    print(json.dumps(outputs))


if __name__ == "__main__":
    main(sys.argv[1])
