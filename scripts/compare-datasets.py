#!/usr/bin/env python3
"""The lesson on MNIST beside Fashion-MNIST, from the committed group summaries:
results/groups/<group>/summary.json (MNIST) and results/fashion-mnist/groups/<group>/summary.json.
Prints the Markdown tables of docs/fashion-mnist.md.

    python3 scripts/compare-datasets.py
"""

import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def rows(path):
    try:
        with open(os.path.join(ROOT, path)) as f:
            summary = json.load(f)
    except FileNotFoundError:
        return {}
    return {r["experiment"]: r for r in summary["rows"]}


def spread(s, digits=2):
    if s is None:
        return "-"
    if s["n"] > 1:
        return f"{s['mean']:.{digits}f} ± {s['sd']:.{digits}f}"
    return f"{s['mean']:.{digits}f}"


def gap(row):
    """Final test loss minus final train loss: the overfitting gap."""
    if row is None:
        return "-"
    return f"{row['test_loss']['mean'] - row['final_train_loss']['mean']:.3f}"


def main():
    groups = ["lesson", "init", "regularisation", "dropout-sweep"]
    mnist, fashion = {}, {}
    for g in groups:
        mnist.update(rows(f"results/groups/{g}/summary.json"))
        fashion.update(rows(f"results/fashion-mnist/groups/{g}/summary.json"))
    # MNIST's softmax was run with one seed (results/flex-2core); no MNIST `lesson` group.
    if "softmax" not in mnist:
        with open(os.path.join(ROOT, "results/flex-2core/softmax/report.json")) as f:
            r = json.load(f)
        one = lambda v: {"n": 1, "mean": v, "sd": 0.0}
        mnist["softmax"] = {
            "test_accuracy": one(r["test_accuracy"]),
            "test_loss": one(r["test_loss"]),
            "final_train_loss": one(r["final_train_loss"]),
            "first_epoch_train_loss": None,
        }
    order = ["softmax", "nn", "xavier", "xavier-uniform", "he-normal", "deep", "deep-l2",
             "dropout-0.1", "dropout", "dropout-0.5"]
    print("| experiment | MNIST test acc % | Fashion-MNIST test acc % | MNIST test - train loss "
          "| Fashion test - train loss | Fashion epoch-1 train loss | Fashion [min, max] |")
    print("|---|---|---|---|---|---|---|")
    for e in order:
        m, f = mnist.get(e), fashion.get(e)
        if m is None and f is None:
            continue
        rng = f"[{f['test_accuracy']['min']:.2f}, {f['test_accuracy']['max']:.2f}]" if f else "-"
        print(f"| {e} | {spread(m['test_accuracy']) if m else '-'} | "
              f"{spread(f['test_accuracy']) if f else '-'} | {gap(m)} | {gap(f)} | "
              f"{spread(f['first_epoch_train_loss'], 3) if f else '-'} | {rng} |")


main()
