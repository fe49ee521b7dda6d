#!/usr/bin/env python3
"""Are two sets of runs the same numbers? For each experiment, compares the latest run under
BEFORE and AFTER: report.json's results, metrics.json without its timings, and model.bpk's
tensor data (the file's last 4 * params bytes: every parameter as f32). The burnpack header
is compared apart: it holds Burn's parameter ids, which Burn draws anew in every process.

    scripts/compare-runs.py BEFORE_ARTIFACTS AFTER_ARTIFACTS [experiment ...]
"""
import json
import os
import sys

KEYS = ["test_accuracy", "test_loss", "final_train_loss", "final_train_accuracy",
        "per_class_accuracy", "epochs", "params", "optimizer", "seed", "dataset"]


def run(root, experiment):
    return os.path.realpath(os.path.join(root, experiment, "latest"))


def metrics(run_dir):
    with open(os.path.join(run_dir, "metrics.json")) as f:
        return [{k: v for k, v in r.items() if "seconds" not in k} for r in json.load(f)]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    before, after = sys.argv[1], sys.argv[2]
    experiments = sys.argv[3:] or ["softmax", "nn", "xavier", "deep", "dropout"]
    all_same = True
    for e in experiments:
        b, a = run(before, e), run(after, e)
        with open(os.path.join(b, "report.json")) as f:
            rb = json.load(f)
        with open(os.path.join(a, "report.json")) as f:
            ra = json.load(f)
        report_same = all(rb.get(k) == ra.get(k) for k in KEYS)
        metrics_same = metrics(b) == metrics(a)
        with open(os.path.join(b, "model.bpk"), "rb") as f:
            mb = f.read()
        with open(os.path.join(a, "model.bpk"), "rb") as f:
            ma = f.read()
        data = 4 * rb["params"]
        tensors_same = len(mb) == len(ma) and mb[-data:] == ma[-data:]
        header_diff = sum(x != y for x, y in zip(mb[:-data], ma[:-data]))
        same = report_same and metrics_same and tensors_same
        all_same &= same
        print(f"{e:8} test accuracy {rb['test_accuracy']:.2f} / {ra['test_accuracy']:.2f}, "
              f"test loss {rb['test_loss']!r} / {ra['test_loss']!r}: report {'=' if report_same else 'DIFFERS'}, "
              f"metrics.json {'=' if metrics_same else 'DIFFERS'} ({len(metrics(b))} epochs), "
              f"model tensors {'=' if tensors_same else 'DIFFER'} ({data} bytes; header: "
              f"{header_diff} of {len(mb) - data} bytes differ, the parameter ids)")
    print("bit-identical results" if all_same else "DIFFERENT results")
    sys.exit(0 if all_same else 1)


main()
