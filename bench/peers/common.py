"""What both peers share: the MNIST files of data/mnist, the lab's four models, and the JSON
line each peer prints at the end (read by bench/run.py)."""

import gzip
import json
import os
import resource
import struct
import sys
import time

import numpy as np

# name -> hidden widths, dropout (the lab's experiments/*.toml, same shapes)
MODELS = {
    "softmax": ([], 0.0),
    "nn": ([256, 256], 0.0),
    "deep": ([512, 512, 512, 512], 0.0),
    "dropout": ([512, 512, 512, 512], 0.3),
}


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_mnist(data_dir):
    """Images as float32 in [0, 1], shape [n, 784]; labels as int64."""
    def split(prefix):
        x = load_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
        y = load_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
        return (x.reshape(len(x), -1).astype(np.float32) / 255.0), y.astype(np.int64)
    return split("train"), split("t10k")


def params(hidden):
    widths = [784] + hidden + [10]
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


def peak_rss_mb():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(peer, model, epoch_seconds, startup_seconds, eval_seconds, accuracy, threads,
           first_step_seconds=None):
    print(json.dumps({
        "first_step_seconds": first_step_seconds,
        "peer": peer,
        "model": model,
        "epoch_seconds": epoch_seconds,
        "startup_seconds": startup_seconds,
        "eval_seconds": eval_seconds,
        "test_accuracy": accuracy,
        "peak_rss_mb": peak_rss_mb(),
        "threads": threads,
    }))
    sys.stdout.flush()


START = time.perf_counter()
