#!/usr/bin/env python3
"""What training on a `lab10 worker` costs, on this machine (loopback).

1. Overhead: `xavier` and `dropout` trained here on flex and on a flex worker on 127.0.0.1
   (`--remote`), one after the other, same settings: s/epoch side by side (median of the
   epochs after the first).
2. Spreading a group: the wall time of `train --group init` one run after another in this
   process, on 1 and 2 workers (`--workers`), and in 1 and 2 local processes (`--jobs`).

Usage (after `cargo build --release --features remote`):
    python3 bench/remote.py [--lab10 target/release/lab10] [--epochs 3] [--group-epochs 1]
        [--repeat 3] [--parts overhead,group]
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


def group(lab10, epochs, repeat, root):
    print(f"## `train --group init --epochs {epochs} --no-reuse` (4 experiments x 3 seeds), "
          f"wall time, median of {repeat}\n")
    print("| how | wall s | vs one after another |")
    print("|---|---|---|")
    base = None
    configs = [("one after another, this process", [], 0),
               ("--workers: 1 local worker", None, 1),
               ("--workers: 2 local workers", None, 2),
               ("--jobs 1", ["--jobs", "1"], 0),
               ("--jobs 2", ["--jobs", "2"], 0)]
    for label, extra, workers in configs:
        walls = []
        for _ in range(repeat):
            procs = [start_worker(lab10) for _ in range(workers)]
            try:
                args = extra if extra is not None else [
                    "--workers", ",".join(url for _, url in procs)]
                artifacts = tempfile.mkdtemp(dir=root)
                start = time.monotonic()
                subprocess.run([lab10, "train", "--group", "init", "--epochs", str(epochs),
                                "--no-reuse", "--json", "--artifacts", artifacts] + args,
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                walls.append(time.monotonic() - start)
            finally:
                for proc, _ in procs:
                    proc.kill()
        wall = statistics.median(walls)
        base = base or wall
        print(f"| {label} | {wall:.1f} | {wall / base:.2f}x |", flush=True)
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lab10", default="target/release/lab10")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--group-epochs", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3, help="runs per configuration (median)")
    p.add_argument("--parts", default="overhead,group")
    a = p.parse_args()
    cores = os.cpu_count()
    print(f"lab10 remote benchmark: {cores} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    with tempfile.TemporaryDirectory() as root:
        if "overhead" in a.parts:
            overhead(a.lab10, a.epochs, a.repeat, root)
        if "group" in a.parts:
            group(a.lab10, a.group_epochs, a.repeat, root)


if __name__ == "__main__":
    main()
