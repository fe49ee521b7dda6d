"""What the benchmarks (run.py on CPU, gpu.py on a GPU) share about a finished lab10 run."""
import json
import os


def read_run(stdout):
    """The run folder `lab10 train` printed (its "run: " line), its metrics.json and report.json."""
    run_dir = next(l[5:] for l in stdout.splitlines() if l.startswith("run: "))
    with open(os.path.join(run_dir, "metrics.json")) as f:
        metrics = json.load(f)
    with open(os.path.join(run_dir, "report.json")) as f:
        report = json.load(f)
    return run_dir, metrics, report


def steady(epochs):
    """The epochs after warm-up (all of them when there is only one)."""
    return epochs[1:] if len(epochs) > 1 else epochs
