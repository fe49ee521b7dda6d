#!/usr/bin/env python3
"""What Slurm adds on one node: the wall time of `lab10 train --group init --epochs 1` one run
after another in this process, as two local processes (`--jobs 2`), and as a job array on a
one-node Slurm cluster on localhost (`--slurm`, from submission until the summary job has
finished), each from empty artifacts, `--repeat` times, alternating; the median of each.

Usage (after `cargo build --release`; Debian's slurmctld, slurmd, slurm-client and munge
installed, as root):
    python3 bench/slurm.py [--lab10 target/release/lab10] [--repeat 3] [--group init]
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def slurm_local(action, state):
    subprocess.run(["bash", os.path.join(REPO, "scripts/slurm-local.sh"), action, state],
                   check=True, capture_output=True, text=True)


def drained(env, limit=1800):
    """Waits until the cluster's queue is empty."""
    started = time.time()
    while time.time() - started < limit:
        queue = subprocess.run(["squeue", "--noheader"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()
        if not queue:
            return
        time.sleep(0.2)
    raise SystemExit("the Slurm queue did not drain")


def run(lab10, group, mode, env):
    with tempfile.TemporaryDirectory() as artifacts:
        cmd = [lab10, "--artifacts", artifacts, "train", "--group", group, "--epochs", "1",
               "--no-reuse"]
        extra = {"sequential": [], "jobs 2": ["--jobs", "2"], "slurm": ["--slurm"]}[mode]
        started = time.time()
        subprocess.run(cmd + extra, check=True, capture_output=True, env=env, cwd=REPO)
        if mode == "slurm":
            drained(env)
        seconds = time.time() - started
        summaries = os.path.join(artifacts, "groups", group)
        assert os.listdir(summaries), f"{mode}: no summary"
        return seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lab10", default=os.path.join(REPO, "target/release/lab10"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--group", default="init")
    a = p.parse_args()
    modes = ["sequential", "jobs 2", "slurm"]
    times = {m: [] for m in modes}
    with tempfile.TemporaryDirectory(prefix="lab10-slurm-") as state:
        slurm_local("start", state)
        env = dict(os.environ, SLURM_CONF=os.path.join(state, "slurm.conf"))
        try:
            for _ in range(a.repeat):
                for m in modes:
                    times[m].append(run(a.lab10, a.group, m, env))
        finally:
            slurm_local("stop", state)
    base = statistics.median(times["sequential"])
    print(f"## `lab10 train --group {a.group} --epochs 1 --no-reuse`, {a.repeat} runs each, "
          f"alternating, {os.cpu_count()} cores\n")
    print("| how | wall s (median) | runs | vs sequential |")
    print("| --- | ---: | --- | ---: |")
    for m in modes:
        med = statistics.median(times[m])
        runs = ", ".join(f"{t:.1f}" for t in times[m])
        how = {"sequential": "one after another, in process", "jobs 2": "`--jobs 2`",
               "slurm": "`--slurm` (one-node cluster; until the summary job ends)"}[m]
        print(f"| {how} | {med:.1f} | {runs} | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
