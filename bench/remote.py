#!/usr/bin/env python3
"""What training on a `lab10 worker` costs, on this machine (loopback): `xavier` and
`dropout` trained here on flex and on a flex worker on 127.0.0.1 (`--remote`), one after the
other, same settings: s/epoch side by side (median of the epochs after the first). A group's
members side by side (`--jobs`, `--slurm`) are bench/slurm.py's.

Usage (after `cargo build --release --features remote`):
    python3 bench/remote.py [--lab10 target/release/lab10] [--epochs 3] [--repeat 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runs import steady  # noqa: E402


def start_worker(lab10):
    """A flex worker on a free loopback port, without a token (loopback only)."""
    proc = subprocess.Popen(
        [lab10, "worker", "--listen", "127.0.0.1:0", "--no-auth", "--backend", "flex"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = proc.stdout.readline()
    url = next(w for w in first.split() if w.startswith("ws://"))
    # Keep reading its log so that it never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()
    return proc, url


def train(lab10, artifacts, experiment, epochs, extra):
    out = subprocess.run(
        [lab10, "train", experiment, "--epochs", str(epochs), "--json",
         "--artifacts", artifacts] + extra,
        check=True, capture_output=True, text=True).stdout
    run = next(json.loads(l)["run"] for l in out.splitlines() if '"event":"opened"' in l)
    with open(os.path.join(run, "metrics.json")) as f:
        metrics = json.load(f)
    with open(os.path.join(run, "report.json")) as f:
        report = json.load(f)
    return metrics, report


def overhead(lab10, epochs, repeat, root):
    worker, url = start_worker(lab10)
    try:
        print(f"## Local flex vs a flex worker on loopback, {epochs} epochs per run, "
              f"{repeat} runs each, alternating\n")
        print("s/epoch: median over the runs of each run's median epoch after the first.\n")
        print("| experiment | local s/epoch | worker s/epoch | worker / local | local acc % | worker acc % |")
        print("|---|---|---|---|---|---|")
        for experiment in ["xavier", "dropout"]:
            local, remote = [], []
            for _ in range(repeat):
                for runs, where, extra in [(local, "local", ["--backend", "flex"]),
                                           (remote, "remote", ["--remote", url])]:
                    metrics, report = train(lab10, os.path.join(root, where), experiment, epochs, extra)
                    runs.append((statistics.median(e["epoch_seconds"] for e in steady(metrics)),
                                 report["test_accuracy"]))
            ls = statistics.median(r[0] for r in local)
            rs = statistics.median(r[0] for r in remote)
            accs = lambda runs: "/".join(f"{r[1]:.2f}" for r in runs)
            print(f"| {experiment} | {ls:.2f} | {rs:.2f} | {rs / ls:.2f}x | "
                  f"{accs(local)} | {accs(remote)} |", flush=True)
    finally:
        worker.kill()
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lab10", default="target/release/lab10")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeat", type=int, default=3, help="runs per configuration (median)")
    a = p.parse_args()
    cores = os.cpu_count()
    print(f"lab10 remote benchmark: {cores} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    with tempfile.TemporaryDirectory() as root:
        overhead(a.lab10, a.epochs, a.repeat, root)


if __name__ == "__main__":
    main()
