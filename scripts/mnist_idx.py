"""The MNIST test split as NumPy arrays, for the scripts that check lab10's exports against
other runtimes (check-export.py, check-onnx.py): IDX files, .gz or raw, in a data folder."""

import gzip
import os
import sys

import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(data_dir, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            return path
    sys.exit(f"{name}(.gz) not found in {data_dir}")


def test_split(data_dir):
    """`(images [n, 784] uint8, labels [n] uint8)` of the test split in `data_dir`."""
    images = read_idx(find(data_dir, "t10k-images-idx3-ubyte"))
    labels = read_idx(find(data_dir, "t10k-labels-idx1-ubyte"))
    return images.reshape(len(images), -1), labels
