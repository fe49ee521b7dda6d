"""The lab's models in PyTorch (CPU): Adam lr 0.001 (eps 1e-8), batch 100, shuffled epochs.
Usage: torch_mnist.py MODEL EPOCHS DATA_DIR THREADS. Prints one JSON line (see common.py)."""

import sys
import time

from common import MODELS, START, load_mnist, report

import torch
from torch import nn


def build(hidden, dropout):
    layers, width = [], 784
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, 10))
    model = nn.Sequential(*layers)
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.normal_(m.bias)  # the course's normal(0, 1) biases
    return model


def main():
    name, epochs, data_dir, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(777)
    (x, y), (xt, yt) = load_mnist(data_dir)
    x, y, xt, yt = map(torch.from_numpy, (x, y, xt, yt))
    hidden, dropout = MODELS[name]
    model = build(hidden, dropout)
    opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    startup = time.perf_counter() - START
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 100):
            idx = order[i:i + 100]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    model.eval()
    with torch.no_grad():
        accuracy = (model(xt).argmax(1) == yt).float().mean().item() * 100
    report("pytorch " + torch.__version__, name, times, startup, time.perf_counter() - t0, accuracy, threads)


main()
