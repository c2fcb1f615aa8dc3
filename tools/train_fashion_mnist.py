#!/usr/bin/python3
"""Trains a small MobileNetV2-style network on Fashion-MNIST and exports ONNX.

Uses Debian's python3-torch and the IDX files of Debian's dataset-fashion-mnist.
Training is never part of `make test`; the exported model is committed as
models/fashion_mnist_mbv2.onnx.

Preprocessing the model expects (also in the ONNX metadata): a 28x28 grey
image, pixels scaled to [0, 1], then (x - 0.2860) / 0.3530.

    /usr/bin/python3 tools/train_fashion_mnist.py --epochs 8 -o models/fashion_mnist_mbv2.onnx
"""
import argparse
import gzip
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    with gzip.open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        ndim = magic & 0xFF
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def load(split):
    images = read_idx(f"{DATA}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = read_idx(f"{DATA}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    x = torch.from_numpy((images - MEAN) / STD).unsqueeze(1)
    return x, torch.from_numpy(labels)


def conv_bn_relu6(cin, cout, kernel, stride, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(conv_bn_relu6(cin, hidden, 1, 1))
        layers += [
            conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_residual else y


class FashionMobileNetV2(nn.Module):
    # (expand, out channels, repeats, first stride), as torchvision's table.
    SETTINGS = [(1, 16, 1, 1), (4, 24, 2, 2), (4, 32, 3, 2), (4, 64, 2, 1)]

    def __init__(self, classes=10):
        super().__init__()
        layers = [conv_bn_relu6(1, 16, 3, 1)]
        cin = 16
        for expand, cout, repeats, stride in self.SETTINGS:
            for i in range(repeats):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers.append(conv_bn_relu6(cin, 128, 1, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(128, classes)

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", default="models/fashion_mnist_mbv2.onnx")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    model = FashionMobileNetV2()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = args.epochs * ((len(xtr) + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for epoch in range(args.epochs):
        model.train()
        start = time.time()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 128):
            idx = perm[i:i + 128]
            xb = xtr[idx]
            # Light augmentation: random horizontal flips (clothes are symmetric).
            flip = torch.rand(len(xb)) < 0.5
            xb[flip] = xb[flip].flip(3)
            loss = F.cross_entropy(model(xb), ytr[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        acc = evaluate(model, xte, yte)
        print(f"epoch {epoch + 1}: loss {loss.item():.3f} test accuracy {acc:.4f} "
              f"({time.time() - start:.0f} s)", flush=True)

    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(model, dummy, args.output, opset_version=13,
                      input_names=["input"], output_names=["logits"])
    print(f"wrote {args.output}; float test accuracy {evaluate(model, xte, yte):.4f}")


if __name__ == "__main__":
    main()
