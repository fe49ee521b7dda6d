#!/usr/bin/env python3
"""Checks a `lab10 export` file with real clients: the `safetensors` library reads it and NumPy
computes the forward pass of the architecture in its metadata, on the test images.

    scripts/check-export.py MODEL.safetensors EVAL.json DATA_DIR [--test-size N]

EVAL.json is `lab10 eval RUN --json --logits 100` (lab10's own accuracy and first logits);
DATA_DIR holds the dataset's t10k-*-idx*-ubyte(.gz) files. Prints one JSON line and exits 1 if
the accuracy differs by more than 0.01 points or a logit by more than 1e-4 (relative to the
logit where it is above 1 in size).
Needs: pip install numpy safetensors
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import find, read_idx  # noqa: E402
from safetensors import safe_open


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("eval_json")
    p.add_argument("data_dir")
    p.add_argument("--test-size", type=int, default=None)
    a = p.parse_args()

    with safe_open(a.model, framework="np") as f:
        arch = json.loads(f.metadata()["lab10"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    with open(a.eval_json) as f:
        lab10 = json.load(f)

    images = read_idx(find(a.data_dir, "t10k-images-idx3-ubyte"))
    labels = read_idx(find(a.data_dir, "t10k-labels-idx1-ubyte"))
    n = a.test_size or len(labels)
    x = images[:n].reshape(n, -1).astype(np.float32)
    if arch["pixels"] == "unit":
        x = x / np.float32(255.0)
    activations = {
        "relu": lambda v: np.maximum(v, 0),
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "tanh": np.tanh,
    }
    act = activations[arch["activation"]]
    indices = arch["linear_indices"]
    for j, k in enumerate(indices):
        w, b = tensors[f"{k}.weight"], tensors[f"{k}.bias"]  # PyTorch layout: w is [out, in]
        x = x @ w.T + b
        if j < len(indices) - 1:
            x = act(x)  # dropout is the identity at inference
    accuracy = float((x.argmax(1) == labels[:n]).mean() * 100)

    lab_logits = np.array(lab10["logits"], dtype=np.float32)
    # Relative to the logit's size where it is above 1 (float32 sums in another order).
    diff = float((np.abs(x[: len(lab_logits)] - lab_logits) / np.maximum(1, np.abs(lab_logits))).max())
    result = {
        "numpy_accuracy": round(accuracy, 4),
        "lab10_accuracy": lab10["accuracy"],
        "images": n,
        "logits_compared": len(lab_logits),
        "max_logit_difference": diff,
        "tensors": sorted(tensors, key=lambda k: (int(k.split(".")[0]), k)),
    }
    print(json.dumps(result))
    ok = abs(accuracy - lab10["accuracy"]) <= 0.01 and diff <= 1e-4
    sys.exit(0 if ok else 1)


main()
