"""The lab's models in PyTorch: Adam lr 0.001 (eps 1e-8), batch 100, shuffled epochs.
Usage: torch_mnist.py MODEL EPOCHS DATA_DIR THREADS [DEVICE]. Prints one JSON line (see
common.py). DEVICE is cpu (default) or cuda: on cuda the whole data set is resident on the GPU
and batches are taken by index there, as the CPU run does in memory."""

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
    device = torch.device(sys.argv[5] if len(sys.argv) > 5 else "cpu")
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(777)
    (x, y), (xt, yt) = load_mnist(data_dir)
    x, y, xt, yt = (torch.from_numpy(a).to(device) for a in (x, y, xt, yt))
    hidden, dropout = MODELS[name]
    model = build(hidden, dropout).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    sync()
    startup = time.perf_counter() - START
    first_step = None
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x), 100):
            idx = order[i:i + 100]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            if first_step is None:
                sync()
                first_step = time.perf_counter() - START
        sync()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    model.eval()
    with torch.no_grad():
        accuracy = (model(xt).argmax(1) == yt).float().mean().item() * 100
    label = "pytorch " + torch.__version__ + (" cuda" if cuda else "")
    report(label, name, times, startup, time.perf_counter() - t0, accuracy, threads,
           first_step_seconds=first_step)


main()
