"""GPU benchmark: lab10 builds side by side with PyTorch on CUDA, on the same GPU.

Same models and settings as the CPU benchmark (bench/run.py): batch 100, the full 60,000
images, Adam lr 0.001, warm-up epoch dropped, median s/epoch. Each lab10 build is a labelled
binary and backend, e.g.

    python3 bench/gpu.py --epochs 4 \\
        --lab10 "spirv+fusion=bin/lab10:vulkan" --lab10 "wgsl+fusion=bin/lab10-wgsl:wgpu" \\
        --lab10 "wgsl plain=bin/lab10-plain:wgpu" --warm "spirv+fusion" \\
        --accuracy "spirv+fusion" --out results/

Reports per model and build: s/epoch, time to the end of the first training step (start-up,
kernel compilation and autotuning included), evaluation time for the 10,000 test images, peak
GPU memory (nvidia-smi's memory.used over the run, minus its value before), test accuracy.
`--warm LABEL` runs that build a second time with the autotune cache the first run left
(CUBECL_ENVIRONMENT is set per build, so builds do not share cached results). `--accuracy
LABEL` then trains the five lesson experiments for 15 epochs with that build. Results are
written after every run (gpu.json, gpu.md), so a run cut short keeps what it measured.
Figures are printed, never asserted.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from runs import read_run, steady

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MODELS = ["softmax", "nn", "deep", "dropout"]
LESSON = ["softmax", "nn", "xavier", "deep", "dropout"]


def nvidia_smi(*query):
    try:
        out = subprocess.run(["nvidia-smi", *query], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def gpu_memory_used():
    """MiB in use on GPU 0 (NaN without nvidia-smi)."""
    out = nvidia_smi("--query-gpu=memory.used", "--format=csv,noheader,nounits")
    return float(out.split()[0]) if out else float("nan")


class MemoryPeak:
    """Polls the GPU's used memory every 0.1 s while a run is going."""

    def __init__(self):
        self.baseline = gpu_memory_used()
        self.peak = self.baseline
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def poll(self):
        while not self.done.wait(0.1):
            used = gpu_memory_used()
            if used == used:
                self.peak = max(self.peak, used)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def mib(self):
        return self.peak - self.baseline


def run(cmd, env, cwd=REPO, timeout=600):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
        raise RuntimeError(f"{cmd[0]} exited with {p.returncode}")
    return p.stdout, wall


def lab10_run(build, model, epochs, data_dir, artifacts, environment):
    path, backend = build["path"], build["backend"]
    env = dict(os.environ, CUBECL_ENVIRONMENT=environment)
    cmd = [path, "train", model, "--epochs", str(epochs), "--backend", backend,
           "--data-dir", data_dir, "--artifacts", artifacts]
    with MemoryPeak() as mem:
        out, wall = run(cmd, env)
    _, metrics, report = read_run(out)
    return {
        "epoch_seconds": [m["train_seconds"] for m in metrics],
        "first_step_seconds": report.get("first_step_seconds"),
        "eval_seconds": report.get("eval_seconds"),
        "test_accuracy": report["test_accuracy"],
        "gpu_memory_mib": mem.mib(),
        "wall_seconds": wall,
        "device": report.get("device"),
    }


def torch_run(python, model, epochs, data_dir):
    cmd = [python, os.path.join(HERE, "peers", "torch_mnist.py"), model, str(epochs), data_dir,
           "4", "cuda"]
    with MemoryPeak() as mem:
        out, wall = run(cmd, dict(os.environ), cwd=os.path.join(HERE, "peers"))
    result = json.loads(out.strip().splitlines()[-1])
    result["gpu_memory_mib"] = mem.mib()
    result["wall_seconds"] = wall
    return result


def fmt(x, digits=3):
    return "n/a" if x is None or x != x else f"{x:.{digits}f}"


def write(out_dir, meta, rows, accuracy):
    with open(os.path.join(out_dir, "gpu.json"), "w") as f:
        json.dump({"meta": meta, "runs": rows, "accuracy": accuracy}, f, indent=1)
    lines = [f"# lab10 on the GPU vs PyTorch CUDA, {meta['started']}", "",
             f"GPU: {meta['gpu']}. {meta['epochs']} epochs per run, first dropped, median s/epoch "
             "of the rest; batch 100, full MNIST, Adam lr 0.001.", "",
             "| model | build | s/epoch | vs PyTorch | first step s | eval 10k s | GPU MiB | test acc % (after "
             f"{meta['epochs']} epochs) | device |",
             "|---|---|---|---|---|---|---|---|---|"]
    torch_by_model = {r["model"]: r for r in rows if r["build"] == "pytorch"}
    for r in rows:
        s = statistics.median(steady(r["epoch_seconds"]))
        t = torch_by_model.get(r["model"])
        ratio = s / statistics.median(steady(t["epoch_seconds"])) if t else None
        lines.append(f"| {r['model']} | {r['build']} | {s:.3f} | {fmt(ratio, 2)} | "
                     f"{fmt(r.get('first_step_seconds'), 2)} | {fmt(r.get('eval_seconds'))} | "
                     f"{fmt(r.get('gpu_memory_mib'), 0)} | {fmt(r.get('test_accuracy'), 2)} | "
                     f"{r.get('device') or r.get('peer', '')} |")
    if accuracy:
        lines += ["", f"{meta['accuracy_epochs']}-epoch lesson runs with {meta['accuracy_build']} "
                  "(seed 777):", "",
                  "| experiment | test acc % | s/epoch (median) | wall s |", "|---|---|---|---|"]
        for a in accuracy:
            lines.append(f"| {a['model']} | {a['test_accuracy']:.2f} | "
                         f"{statistics.median(steady(a['epoch_seconds'])):.3f} | {a['wall_seconds']:.1f} |")
    with open(os.path.join(out_dir, "gpu.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lab10", action="append", default=[], metavar="LABEL=PATH:BACKEND")
    p.add_argument("--python", default=sys.executable, help="a Python with torch (CUDA)")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--warm", action="append", default=[], metavar="LABEL")
    p.add_argument("--accuracy", metavar="LABEL")
    p.add_argument("--accuracy-epochs", type=int, default=15)
    p.add_argument("--data-dir", default=os.path.join(REPO, "data", "mnist"))
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args()

    builds = {}
    for spec in args.lab10:
        label, rest = spec.split("=", 1)
        path, backend = rest.rsplit(":", 1)
        builds[label] = {"path": os.path.abspath(path), "backend": backend}
    os.makedirs(args.out, exist_ok=True)
    gpu = nvidia_smi("--query-gpu=name,driver_version,memory.total", "--format=csv,noheader") or "no nvidia-smi"
    meta = {"started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "gpu": gpu, "epochs": args.epochs, "builds": builds, "accuracy_build": args.accuracy,
            "accuracy_epochs": args.accuracy_epochs}
    rows, accuracy = [], []
    models = [m for m in args.models.split(",") if m]
    with tempfile.TemporaryDirectory(prefix="lab10-gpu-bench-") as artifacts:
        for model in models:
            for label, build in builds.items():
                for attempt in ["cold"] + (["warm"] if label in args.warm else []):
                    name = label if attempt == "cold" else f"{label} (autotune cache warm)"
                    try:
                        r = lab10_run(build, model, args.epochs, args.data_dir, artifacts, label)
                    except Exception as e:  # noqa: BLE001 - a failed build is reported, not fatal
                        print(f"{model} {name}: FAILED {e}", flush=True)
                        continue
                    rows.append(dict(r, model=model, build=name))
                    print(f"{model} {name}: {r['epoch_seconds']} first step "
                          f"{r['first_step_seconds']} acc {r['test_accuracy']}", flush=True)
                    write(args.out, meta, rows, accuracy)
            if not args.no_torch:
                try:
                    r = torch_run(args.python, model, args.epochs, args.data_dir)
                    rows.append(dict(r, model=model, build="pytorch"))
                    print(f"{model} pytorch: {r['epoch_seconds']} acc {r['test_accuracy']}", flush=True)
                except Exception as e:  # noqa: BLE001
                    print(f"{model} pytorch: FAILED {e}", flush=True)
                write(args.out, meta, rows, accuracy)
        if args.accuracy:
            build = builds[args.accuracy]
            for model in LESSON:
                r = lab10_run(build, model, args.accuracy_epochs, args.data_dir, artifacts,
                              args.accuracy)
                accuracy.append(dict(r, model=model))
                print(f"{args.accuracy_epochs} epochs {model}: {r['test_accuracy']:.2f} %", flush=True)
                write(args.out, meta, rows, accuracy)
    print(write(args.out, meta, rows, accuracy))


main()
