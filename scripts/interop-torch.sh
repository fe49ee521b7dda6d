#!/usr/bin/env bash
# lab10 <-> PyTorch, checked with PyTorch itself (docs/interop.md): PyTorch trains the `nn`
# architecture and saves its state_dict (.safetensors and .pt), lab10 imports both and reports
# its own accuracy; lab10 trains `xavier`, exports it, and PyTorch loads it into
# torch.nn.Sequential with load_state_dict(strict=True). Needs the benchmark's environment:
#   python3 -m venv bench/.venv && bench/.venv/bin/pip install torch==2.15.0 "numpy<3" safetensors
# Output: results/interop/torch-round-trip.txt
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LAB10_BIN:-target/release/lab10}
py=${PYTHON:-bench/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=results/interop/torch-round-trip.txt
mkdir -p results/interop
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ), lab10 $(git rev-parse --short=12 HEAD)"
  echo "## PyTorch -> lab10"
  (cd bench/peers && "../../$py" torch_interop.py train nn 3 ../../data/mnist "$work/torch-nn") | sed "s|$work|WORK|g"
  "$bin" import "$work/torch-nn.safetensors" --experiment xavier --artifacts "$work/a" | sed "s|$work|WORK|g"
  "$bin" import "$work/torch-nn.pt" --experiment xavier --artifacts "$work/a" | sed "s|$work|WORK|g"
  echo "## lab10 -> PyTorch"
  "$bin" train xavier --epochs 2 --artifacts "$work/b" </dev/null | tail -2 | sed "s|$work|WORK|g"
  "$bin" export "$work/b/xavier/latest" --out "$work/lab10-xavier.safetensors" | sed "s|$work|WORK|g"
  (cd bench/peers && "../../$py" torch_interop.py load "$work/lab10-xavier.safetensors" ../../data/mnist) | sed "s|$work|WORK|g"
} | tee "$out"
