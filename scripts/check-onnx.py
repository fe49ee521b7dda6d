#!/usr/bin/env python3
"""Checks a `lab10 export --out MODEL.onnx` file with the reference tools: onnx's checker
(full_check) passes, and ONNX Runtime (CPU) on the whole test set, fed raw pixels 0-255, gives
lab10's logits and exactly lab10's accuracy.

    scripts/check-onnx.py MODEL.onnx EVAL.json DATA_DIR

EVAL.json is `lab10 eval RUN --json --logits 10000` (lab10's accuracy and its logits of every
test image); DATA_DIR holds the dataset's t10k-*-idx*-ubyte(.gz) files. Also checks that batches
of 1, 7 and 10,000 give the same numbers, that the probabilities sum to 1, the graph's input
and outputs (names, float32, a dynamic batch) and its metadata. Prints one JSON line (the
largest logit differences, absolute and relative) and exits 1 on any failure.
Needs: pip install onnx onnxruntime numpy
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import find, read_idx  # noqa: E402
import onnx
import onnxruntime as ort

# A logit agrees when it is within 1e-4 of lab10's, relative to the largest logit of its image
# where that is above 1 in size. Both sides sum float32 products in their own order; in a model
# whose activations are large (`nn`'s normal(0, 1) weights) a logit near 0 is the difference of
# large sums, so its error scales with the image's logits, not with its own size.
TOLERANCE = 1e-4


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("eval_json")
    p.add_argument("data_dir")
    a = p.parse_args()
    failures = []

    model = onnx.load(a.model)
    onnx.checker.check_model(model, full_check=True)
    meta = {m.key: m.value for m in model.metadata_props}
    for key in ["lab10_version", "experiment", "dataset", "seed", "weights_sha256", "classes"]:
        if not meta.get(key):
            failures.append(f"metadata has no {key}")

    session = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    outs = [o.name for o in session.get_outputs()]
    if inp.name != "pixels" or inp.type != "tensor(float)" or not isinstance(inp.shape[0], str):
        failures.append(f"input is {inp.name} {inp.type} {inp.shape}, not pixels float [batch, 784]")
    if outs != ["logits", "probabilities"]:
        failures.append(f"outputs are {outs}")

    with open(a.eval_json) as f:
        lab = json.load(f)
    images = read_idx(find(a.data_dir, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32)
    labels = read_idx(find(a.data_dir, "t10k-labels-idx1-ubyte")).astype(np.int64)
    n = lab["images"]
    images, labels = images[:n], labels[:n]

    logits, probs = session.run(None, {"pixels": images})
    accuracy = float((logits.argmax(1) == labels).mean() * 100)
    if round(accuracy, 6) != round(lab["accuracy"], 6):
        failures.append(f"accuracy {accuracy} vs lab10's {lab['accuracy']}")
    theirs = np.array(lab["logits"], dtype=np.float64)
    ours = logits[: len(theirs)].astype(np.float64)
    diff = np.abs(ours - theirs)
    scale = np.maximum(1.0, np.abs(theirs).max(axis=1, keepdims=True))
    relative = diff / scale
    if relative.max() > TOLERANCE:
        failures.append(f"a logit differs from lab10's by {relative.max():.3g} of its image's largest")
    sums = probs.sum(1)
    if np.abs(sums - 1).max() > 1e-5:
        failures.append(f"probabilities sum to {sums.min()}..{sums.max()}")
    for batch in (1, 7):
        parts = [session.run(None, {"pixels": images[i:i + batch]})[0] for i in range(0, 70, batch)]
        if not np.allclose(np.concatenate(parts), logits[:70], rtol=1e-6, atol=1e-5):
            failures.append(f"batches of {batch} give other logits than one batch of {n}")

    print(json.dumps({
        "model": a.model,
        "images": n,
        "accuracy": accuracy,
        "lab10_accuracy": lab["accuracy"],
        "logits_compared": int(theirs.size // 10),
        "max_abs_logit_diff": float(diff.max()),
        "max_rel_logit_diff": float(relative.max()),
        "opset": model.opset_import[0].version,
        "ir_version": model.ir_version,
        "failures": failures,
    }))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
