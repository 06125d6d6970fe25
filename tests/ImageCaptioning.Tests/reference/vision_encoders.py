"""Independent reference for the trainable image encoders (ImageCaptioning.Encoders).

usage:
  vision_encoders.py small_cnn SPEC_JSON
      SPEC: widths, convolutionsPerStage, batchNorm, inputSize, state (the C# state_dict), rows [N, 3*S*S],
      upstream [N, P, C]. Builds the same nn.Sequential (per stage: Conv2d 3x3, stride 2 then 1, padding 1, bias only
      without batch norm; BatchNorm2d; ReLU), loads the state strictly and prints JSON: "eval" (eval mode, no grad),
      "train" (train mode), the "gradients" of sum(train * upstream) for every parameter and the "buffers" after the
      train-mode pass (batch-norm running statistics). Grids are [N, H*W, C], cells row-major, channels last.
      Computed in float64 and written as float32: float32 convolutions (oneDNN's, libtorch's im2col) each sum in
      their own order, so the exact value is the one both must approach.

  vision_encoders.py pretrained OUT_DIR SIZE
      torchvision's resnet50 (batch-norm statistics and affine parameters randomised so that eval-mode batch norm is
      exercised) and vgg16 with seeded random weights. Writes into OUT_DIR:
        resnet50.pth               the full resnet50 state_dict (fc included)
        vgg16_features.pth         vgg16's features.* state_dict (the conv5_3 trunk)
        inputs.f32                 [N, 3, SIZE, SIZE] random normalised images
        upstream_resnet50.f32      [N, (SIZE/32)^2, 2048], upstream_vgg16.f32 [N, (SIZE/16)^2, 512]
        resnet50_eval.f32          children()[:-2] in eval mode, channels last
        resnet50_train.f64         float64: the same in train mode with the tutorial's fine-tuning of the last 2
                                   blocks (layer3, layer4): the other parameters frozen and their modules in eval mode
        vgg16_eval.f32             features[:30] in eval mode
        vgg16_train.f64            float64: train mode fine-tuning the last block (features[24:30])
        grad/<network>.<name>.f64  float64: the gradient of sum(train * upstream) of every trainable parameter
        <network>.after.<name>.f64 float64: every batch-norm running statistic after the train-mode pass
        manifest.json              {"trainable": {network: [names]}, "frozen": {network: [names]}, "after": {...}}
"""
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision


def tensor(spec):
    dtype = {"float32": torch.float32, "int64": torch.int64}[spec["dtype"]]
    return torch.tensor(spec["data"], dtype=dtype).reshape(spec["shape"])


def encode(t):
    t = t.detach()
    dtype = {torch.float32: "float32", torch.int64: "int64"}[t.dtype]
    return {"shape": list(t.shape), "dtype": dtype, "data": t.reshape(-1).tolist()}


def cells(feature_map):
    n, c = feature_map.shape[0], feature_map.shape[1]
    return feature_map.permute(0, 2, 3, 1).reshape(n, -1, c)


def small_cnn(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    layers, channels = [], 3
    for width in spec["widths"]:
        pool = spec.get("downsampling") == "MaxPool"
        for i in range(spec["convolutionsPerStage"]):
            stride = 2 if i == 0 and not pool else 1
            layers.append(nn.Conv2d(channels, width, 3, stride=stride, padding=1, bias=not spec["batchNorm"]))
            if spec["batchNorm"]:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.ReLU(inplace=True))
            channels = width
        if pool:
            layers.append(nn.MaxPool2d(2))
    model = nn.Module()
    model.layers = nn.Sequential(*layers)
    model.load_state_dict({k: tensor(v) for k, v in spec["state"].items()}, strict=True)
    model.double()
    size = spec["inputSize"]
    images = tensor(spec["rows"]).double().reshape(-1, 3, size, size)
    upstream = tensor(spec["upstream"]).double()

    model.eval()
    with torch.no_grad():
        evaluated = cells(model.layers(images))
    model.train()
    trained = cells(model.layers(images))
    (trained * upstream).sum().backward()
    def as32(t):
        return encode(t.float() if t.is_floating_point() else t)

    print(json.dumps({
        "eval": as32(evaluated),
        "train": as32(trained),
        "gradients": {name: as32(p.grad) for name, p in model.named_parameters()},
        "buffers": {name: as32(b) for name, b in model.named_buffers()},
    }))


def write(array, path):
    np.ascontiguousarray(array.detach().numpy(), dtype="<f4").tofile(path)


def write64(array, path):
    np.ascontiguousarray(array.detach().numpy(), dtype="<f8").tofile(path)


def fine_tune(model, trunk_of, frozen, inputs, upstream, out_dir, stem, manifest):
    """The tutorial's fine_tune: the frozen modules get requires_grad False; here they also stay in eval mode.

    In float64: a ReLU whose input lies within float32 rounding of zero switches its gradient on or off, and among the
    many activations of a batch some do, so float32 gradients of the same network differ by whole terms.
    """
    model = copy.deepcopy(model).double()
    frozen_names = set()
    for prefix in frozen:
        for name, p in model.get_submodule(prefix).named_parameters():
            p.requires_grad = False
            frozen_names.add(f"{prefix}.{name}")
    model.train()
    for prefix in frozen:
        model.get_submodule(prefix).eval()
    trained = cells(trunk_of(model)(inputs.double()))
    write64(trained, os.path.join(out_dir, f"{stem}_train.f64"))
    (trained * upstream.double()).sum().backward()
    trainable = []
    os.makedirs(os.path.join(out_dir, "grad"), exist_ok=True)
    for name, p in model.named_parameters():
        if name in frozen_names:
            assert p.grad is None, name
            continue
        if p.grad is None:
            continue  # the head the trunk does not use (resnet's fc)
        trainable.append(name)
        write64(p.grad, os.path.join(out_dir, "grad", f"{stem}.{name}.f64"))
    after = []
    for name, b in model.named_buffers():
        if name.endswith("running_mean") or name.endswith("running_var"):
            after.append(name)
            write64(b, os.path.join(out_dir, f"{stem}.after.{name}.f64"))
    manifest["trainable"][stem] = trainable
    manifest["frozen"][stem] = sorted(frozen_names)
    manifest["after"][stem] = after


def resnet_trunk(resnet):
    return nn.Sequential(*list(resnet.children())[:-2])


def vgg_trunk(vgg):
    return vgg.features[:30]


def pretrained(out_dir, size):
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(2468)
    inputs = torch.randn(2, 3, size, size)
    write(inputs, os.path.join(out_dir, "inputs.f32"))
    manifest = {"trainable": {}, "frozen": {}, "after": {}}

    resnet = torchvision.models.resnet50()
    with torch.no_grad():
        for module in resnet.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
    torch.save(resnet.state_dict(), os.path.join(out_dir, "resnet50.pth"))
    resnet.eval()
    with torch.no_grad():
        write(cells(resnet_trunk(resnet)(inputs)), os.path.join(out_dir, "resnet50_eval.f32"))
    upstream = torch.randn(2, (size // 32) ** 2, 2048)
    write(upstream, os.path.join(out_dir, "upstream_resnet50.f32"))
    fine_tune(resnet, resnet_trunk, ["conv1", "bn1", "layer1", "layer2"], inputs, upstream, out_dir, "resnet50", manifest)

    vgg = torchvision.models.vgg16()
    features = {k: v for k, v in vgg.state_dict().items() if k.startswith("features.")}
    torch.save(features, os.path.join(out_dir, "vgg16_features.pth"))
    vgg.eval()
    with torch.no_grad():
        write(cells(vgg_trunk(vgg)(inputs)), os.path.join(out_dir, "vgg16_eval.f32"))
    upstream = torch.randn(2, (size // 16) ** 2, 512)
    write(upstream, os.path.join(out_dir, "upstream_vgg16.f32"))
    fine_tune(vgg, vgg_trunk, [f"features.{i}" for i in range(24)], inputs, upstream, out_dir, "vgg16", manifest)

    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    if sys.argv[1] == "small_cnn":
        small_cnn(sys.argv[2])
    elif sys.argv[1] == "pretrained":
        pretrained(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
