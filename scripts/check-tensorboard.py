#!/usr/bin/env python3
"""Reads a lab10 run's TensorBoard event file (<artifacts>/tensorboard/<experiment>/<run-id>/) with TensorBoard's own reader
(event_accumulator) and checks it against the run's metrics.json and report.json: one point
per epoch for every scalar, each equal to metrics.json's value as float32 (pretrain.csv's for
RBM pre-training's), the run's pictures as images (the bytes of confusion.png and
misclassified.png), the HParams
plugin's session start (the experiment's settings) and end (its status).

    python3 scripts/check-tensorboard.py RUN_FOLDER [--status STATUS_SUCCESS]

Needs `pip install tensorboard`. Prints one line per tag; exit status 1 on any mismatch.
"""

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--status", default="STATUS_SUCCESS")
    args = parser.parse_args()
    metrics = json.loads((args.run / "metrics.json").read_text())
    report = json.loads((args.run / "report.json").read_text())
    valid = report["validation"].split(" ")[0]
    run = args.run.resolve()
    events = run.parent.parent / "tensorboard" / run.parent.name / run.name
    acc = ea.EventAccumulator(str(events), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0, ea.IMAGES: 0})
    acc.Reload()
    problems = []
    expected = {
        "train/loss": "train_loss",
        "train/accuracy": "train_accuracy",
        f"{valid}/loss": "valid_loss",
        f"{valid}/accuracy": "valid_accuracy",
    }
    for k in range(len(metrics[0]["gradient_norms"]) if metrics and metrics[0].get("gradient_norms") else 0):
        expected[f"gradient_norm/layer_{k + 1}"] = ("gradient_norms", k)
    epochs = [r["epoch"] for r in metrics]
    for tag, key in expected.items():
        points = acc.Scalars(tag)
        steps = [p.step for p in points]
        want = [np.float32(r[key] if isinstance(key, str) else r[key[0]][key[1]]) for r in metrics]
        got = [np.float32(p.value) for p in points]
        ok = steps == epochs and got == want
        print(f"{tag}: {len(points)} points, steps {steps}: {'equal to metrics.json' if ok else 'DIFFERENT'}")
        if not ok:
            problems.append(f"{tag}: steps {steps} vs epochs {epochs}; {got} vs {want}")
    pretrain = args.run / "pretrain.csv"
    if pretrain.exists():
        rows = list(csv.DictReader(pretrain.open()))
        for layer in sorted({int(r["layer"]) for r in rows}):
            tag = f"pretrain/layer_{layer}/reconstruction_error"
            mine = [r for r in rows if int(r["layer"]) == layer]
            points = acc.Scalars(tag)
            ok = ([p.step for p in points] == [int(r["epoch"]) for r in mine]
                  and [np.float32(p.value) for p in points] == [np.float32(float(r["reconstruction_error"])) for r in mine])
            print(f"{tag}: {len(points)} points: {'equal to pretrain.csv' if ok else 'DIFFERENT'}")
            if not ok:
                problems.append(tag)
    for tag, key in {"final/test_accuracy": "test_accuracy", "final/test_loss": "test_loss"}.items():
        points = acc.Scalars(tag)
        ok = len(points) == 1 and np.float32(points[0].value) == np.float32(report[key])
        print(f"{tag}: {[p.value for p in points]} vs report.json {report[key]}: {'equal' if ok else 'DIFFERENT'}")
        if not ok:
            problems.append(tag)

    # The run's pictures, as images at the last step: the same PNG bytes as its files (a run
    # that ended without a model to test, stopped say, has neither).
    for tag, file in {"images/confusion_matrix": "confusion.png", "images/misclassified": "misclassified.png"}.items():
        png = (args.run / file).read_bytes() if (args.run / file).exists() else None
        images = acc.Images(tag) if tag in acc.Tags()["images"] else []
        if png is None:
            ok = not images
        else:
            ok = len(images) == 1 and images[0].encoded_image_string == png \
                and images[0].step == (epochs[-1] if epochs else 0)
        print(f"{tag}: {len(images)} image(s){f', {images[0].width}x{images[0].height}' if images else ''}: "
              f"{'equal to ' + file if ok else 'DIFFERENT'}")
        if not ok:
            problems.append(tag)

    def plugin_data(tag):
        content = acc.SummaryMetadata(tag).plugin_data.content
        return plugin_data_pb2.HParamsPluginData.FromString(content)

    hparams = plugin_data("_hparams_/session_start_info").session_start_info.hparams
    names = sorted(hparams)
    print(f"hparams: {', '.join(names)}")
    for needed in ["model.hidden", "model.activation", "model.weight_init.kind", "model.dropout",
                   "optimizer.kind", "optimizer.learning_rate", "training.batch_size",
                   "training.epochs", "training.seed", "dataset", "backend"]:
        if needed not in hparams:
            problems.append(f"hparam {needed} missing")
    if hparams["training.seed"].number_value != report["seed"] or hparams["backend"].string_value != report["backend"]:
        problems.append("hparams seed/backend differ from report.json")
    end = plugin_data("_hparams_/session_end_info").session_end_info
    status = api_pb2.Status.Name(end.status)
    print(f"session end: {status}")
    if status != args.status:
        problems.append(f"session end {status}, expected {args.status}")
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
