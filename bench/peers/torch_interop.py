"""lab10 <-> PyTorch, checked with PyTorch itself (see docs/interop.md).

    torch_interop.py train MODEL EPOCHS DATA_DIR OUT
        Trains the lab's MODEL (softmax, nn, deep, dropout; Xavier-normal weights) in PyTorch,
        prints its test accuracy as JSON, and saves the state_dict as OUT.safetensors
        (safetensors.torch.save_file) and OUT.pt (torch.save), for `lab10 import`.
    torch_interop.py load FILE.safetensors DATA_DIR
        Rebuilds the torch.nn.Sequential that the file's lab10 metadata describes, loads the
        weights with load_state_dict(strict=True) and prints its test accuracy as JSON.
"""

import json
import sys

from common import MODELS, load_mnist

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def sequential(hidden, activation, dropout, inputs=784, classes=10):
    layers, width = [], inputs
    for h in hidden:
        layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def accuracy(model, xt, yt):
    model.eval()
    with torch.no_grad():
        return (model(xt).argmax(1) == yt).float().mean().item() * 100


def train(name, epochs, data_dir, out):
    torch.manual_seed(777)
    (x, y), (xt, yt) = map(lambda s: tuple(map(torch.from_numpy, s)), load_mnist(data_dir))
    hidden, dropout = MODELS[name]
    model = sequential(hidden, "relu", dropout)
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 100):
            idx = order[i:i + 100]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, out + ".safetensors")
    torch.save(state, out + ".pt")
    print(json.dumps({"peer": "pytorch " + torch.__version__, "model": name, "epochs": epochs,
                      "test_accuracy": accuracy(model, xt, yt),
                      "saved": [out + ".safetensors", out + ".pt"]}))


def load(path, data_dir):
    with safe_open(path, framework="pt") as f:
        arch = json.loads(f.metadata()["lab10"])
    model = sequential(arch["hidden"], arch["activation"], arch["dropout"],
                       arch["inputs"], arch["classes"])
    model.load_state_dict(load_file(path), strict=True)
    _, (xt, yt) = load_mnist(data_dir)
    xt, yt = torch.from_numpy(xt), torch.from_numpy(yt)
    if arch["pixels"] == "raw":
        xt = xt * 255.0
    print(json.dumps({"peer": "pytorch " + torch.__version__, "file": path,
                      "experiment": arch["experiment"], "test_accuracy": accuracy(model, xt, yt)}))


if sys.argv[1] == "train":
    train(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
else:
    load(sys.argv[2], sys.argv[3])
