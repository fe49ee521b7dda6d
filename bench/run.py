#!/usr/bin/env python3
"""Side-by-side CPU benchmark: lab10 against PyTorch and Keras on the lab's models.

Runs every (model, peer) pair alternately, `--reps` times, each run training `--epochs` epochs
on the full 60,000 images with batch 100 and the same thread count, and prints one table:
median seconds per training epoch (the training pass only; epoch 1 is dropped as warm-up when
there are two or more), ratios to the faster peer, samples/s, achieved GFLOP/s, peak RSS, time
to the first training step, test-set evaluation time, and the 1-minute load average seen
before the runs. Timing is reported, never asserted.

    python3 -m venv bench/.venv && bench/.venv/bin/pip install -r bench/peers/requirements.txt
    cargo build --release
    bench/.venv/bin/python bench/run.py --reps 3 --epochs 3

Writes bench/results/<UTC date>-<host>.{md,json}.
"""

import argparse
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from runs import read_run, steady

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HIDDEN = {"softmax": [], "nn": [256, 256], "deep": [512] * 4, "dropout": [512] * 4}


def weights(model):
    widths = [784] + HIDDEN[model] + [10]
    return sum(a * b for a, b in zip(widths, widths[1:]))


def flops_per_epoch(model, images=60_000):
    # Forward 2 flops per weight per image, backward twice that (input and weight gradients).
    return 6 * weights(model) * images


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run(cmd, env, cwd):
    """Runs cmd; returns (stdout, stderr, wall seconds). Exits on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return out.decode(), err.decode(), wall


def timed(cmd):
    """Prefixes cmd with GNU time so its peak RSS is reported on stderr."""
    return ["/usr/bin/time", "-f", "LAB10_BENCH_MAXRSS_KB=%M"] + cmd


def max_rss_mb(stderr):
    for line in stderr.splitlines():
        if line.startswith("LAB10_BENCH_MAXRSS_KB="):
            return int(line.split("=", 1)[1]) / 1024.0
    return float("nan")


def lab10_run(args, model, threads, artifacts):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    cmd = [args.lab10, "train", model, "--epochs", str(args.epochs), "--backend", args.backend,
           "--data-dir", args.data_dir, "--artifacts", artifacts]
    out, err, wall = run(timed(cmd), env, REPO)
    _, metrics, report = read_run(out)
    return {
        "epoch_seconds": [m["train_seconds"] for m in metrics],
        "startup_seconds": report.get("setup_seconds", float("nan")),
        "eval_seconds": report.get("eval_seconds", float("nan")),
        "test_accuracy": report["test_accuracy"],
        "peak_rss_mb": max_rss_mb(err),
        "wall_seconds": wall,
    }


def peer_run(args, script, model, threads, omp_policy):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), TF_CPP_MIN_LOG_LEVEL="2")
    if omp_policy:
        env["OMP_WAIT_POLICY"] = omp_policy
    cmd = [args.python, os.path.join(HERE, "peers", script), model, str(args.epochs),
           args.data_dir, str(threads)]
    out, err, wall = run(timed(cmd), env, os.path.join(HERE, "peers"))
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = max_rss_mb(err)
    result["wall_seconds"] = wall
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="softmax,nn,deep,dropout")
    p.add_argument("--peers", default="lab10,pytorch,pytorch-passive,keras",
                   help="lab10, pytorch (OMP_WAIT_POLICY unset), pytorch-passive, keras")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--backend", default="flex", help="lab10's backend")
    p.add_argument("--lab10", default=os.path.join(REPO, "target/release/lab10"))
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--data-dir", default=os.path.join(REPO, "data/mnist"))
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args()
    models = args.models.split(",")
    peers = args.peers.split(",")
    runners = {
        "lab10": lambda m, a: lab10_run(args, m, args.threads, a),
        "pytorch": lambda m, a: peer_run(args, "torch_mnist.py", m, args.threads, None),
        "pytorch-passive": lambda m, a: peer_run(args, "torch_mnist.py", m, args.threads, "PASSIVE"),
        "keras": lambda m, a: peer_run(args, "keras_mnist.py", m, args.threads, None),
    }
    results = {(m, peer): [] for m in models for peer in peers}
    with tempfile.TemporaryDirectory(prefix="lab10-bench-") as artifacts:
        for rep in range(args.reps):
            for m in models:
                # Rotate the order so that no peer always runs first (or hottest).
                order = peers[rep % len(peers):] + peers[:rep % len(peers)]
                for peer in order:
                    load = os.getloadavg()[0]
                    r = runners[peer](m, artifacts)
                    r["load_before"] = load
                    r["steady_median"] = statistics.median(steady(r["epoch_seconds"]))
                    results[(m, peer)].append(r)
                    print(f"rep {rep + 1}/{args.reps} {m:<8} {peer:<16} "
                          f"{r['steady_median']:7.3f} s/epoch  load {load:4.2f}  "
                          f"RSS {r['peak_rss_mb']:6.0f} MB  acc {r['test_accuracy']:.2f}%",
                          flush=True)

    rows = []
    for m in models:
        row = {"model": m, "gflop_per_epoch": flops_per_epoch(m) / 1e9}
        for peer in peers:
            rs = results[(m, peer)]
            row[peer] = {
                "s_per_epoch": statistics.median(r["steady_median"] for r in rs),
                "runs": [r["steady_median"] for r in rs],
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                "startup_seconds": statistics.median(r["startup_seconds"] for r in rs),
                "eval_seconds": statistics.median(r["eval_seconds"] for r in rs),
                "test_accuracy": statistics.median(r["test_accuracy"] for r in rs),
                "max_load_before": max(r["load_before"] for r in rs),
                "label": rs[0].get("peer", "lab10 " + args.backend),
            }
        rows.append(row)

    others = [p for p in peers if p != "lab10"]
    stamp = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        f"# lab10 vs PyTorch vs Keras, {stamp:%Y-%m-%d %H:%M} UTC",
        "",
        f"CPU: {cpu_name()}, {os.cpu_count()} logical CPUs; {args.threads} threads for every "
        f"framework; batch 100, full 60,000 training images, {args.epochs} epochs per run, "
        f"{args.reps} runs each, alternated. s/epoch = median over runs of the median "
        "training-pass epoch time (warm-up epoch dropped). lab10 backend: "
        f"{args.backend}.",
        "",
    ]
    labels = {p: results[(models[0], p)][0].get("peer", "lab10 " + args.backend) for p in peers}
    lines.append("Peers: " + "; ".join(f"{p} = {labels[p]}" for p in peers))
    lines.append("")
    header = "| model | " + " | ".join(f"{p} s/epoch" for p in peers)
    header += " | lab10 / fastest peer | lab10 samples/s | lab10 GFLOP/s | peak RSS MB (" + ", ".join(peers) + ") | max load |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for row in rows:
        cells = [f"{row[p]['s_per_epoch']:.3f}" for p in peers]
        lab = row.get("lab10")
        ratio = "-"
        if lab and others:
            fastest = min(row[p]["s_per_epoch"] for p in others)
            ratio = f"{lab['s_per_epoch'] / fastest:.2f}"
        sps = f"{60_000 / lab['s_per_epoch']:,.0f}" if lab else "-"
        gflops = f"{row['gflop_per_epoch'] / lab['s_per_epoch']:.1f}" if lab else "-"
        rss = ", ".join(f"{row[p]['peak_rss_mb']:.0f}" for p in peers)
        load = max(row[p]["max_load_before"] for p in peers)
        lines.append(f"| {row['model']} | " + " | ".join(cells) + f" | {ratio} | {sps} | {gflops} | {rss} | {load:.2f} |")
    lines += ["", "| model | " + " | ".join(f"{p} first step s" for p in peers) + " | "
              + " | ".join(f"{p} eval 10k s" for p in peers) + " | "
              + " | ".join(f"{p} test acc %" for p in peers) + " |"]
    lines.append("|" + "---|" * (1 + 3 * len(peers)))
    for row in rows:
        lines.append(f"| {row['model']} | "
                     + " | ".join(f"{row[p]['startup_seconds']:.2f}" for p in peers) + " | "
                     + " | ".join(f"{row[p]['eval_seconds']:.3f}" for p in peers) + " | "
                     + " | ".join(f"{row[p]['test_accuracy']:.2f}" for p in peers) + " |")
    table = "\n".join(lines) + "\n"
    print()
    print(table)
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, f"{stamp:%Y%m%d-%H%M}-{socket.gethostname()}")
    with open(base + ".md.tmp", "w") as f:
        f.write(table)
    os.replace(base + ".md.tmp", base + ".md")
    with open(base + ".json.tmp", "w") as f:
        json.dump({"args": vars(args), "rows": rows,
                   "runs": {f"{m}/{p}": rs for (m, p), rs in results.items()}}, f, indent=1)
    os.replace(base + ".json.tmp", base + ".json")
    print(f"wrote {base}.md and .json")


if __name__ == "__main__":
    main()
