#!/usr/bin/env bash
# GPU check: trains softmax, xavier and dropout for 2 epochs each on the wgpu backend and on the
# CPU backend (flex), then prints seconds per epoch and test accuracy side by side.
#
#   scripts/gpu-check.sh                         build with cargo (needs the Rust toolchain)
#   LAB10_BIN=/path/to/lab10 scripts/gpu-check.sh   use a lab10 binary built elsewhere
#   EPOCHS=3 scripts/gpu-check.sh                more epochs
#
# Needs a Vulkan driver (NVIDIA's, or Mesa's lavapipe on a CPU-only machine) and python3 for the
# table. Artifacts go to a temporary folder (kept; its path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${EPOCHS:-2}
t0=$(date +%s)
if [ -z "${LAB10_BIN:-}" ]; then
  cargo build --release --features wgpu
  LAB10_BIN=target/release/lab10
fi
echo "build: $(( $(date +%s) - t0 )) s"
art=$(mktemp -d -t lab10-gpu-check-XXXXXX)
"$LAB10_BIN" backends
for experiment in softmax xavier dropout; do
  for backend in wgpu flex; do
    log="$art/$experiment-$backend.log"
    if ! "$LAB10_BIN" train "$experiment" --epochs "$epochs" --backend "$backend" \
        --artifacts "$art/$backend" > "$log" 2>&1; then
      cat "$log"
      echo "FAILED: $experiment on $backend" >&2
      exit 1
    fi
    grep '^epoch' "$log" | sed "s/^/$experiment $backend: /"
  done
done
python3 - "$art" <<'PY'
import json, pathlib, sys
art = pathlib.Path(sys.argv[1])
print()
print(f"{'experiment':<10} {'backend':<7} {'s/epoch (each)':<22} {'test acc':>9}  device")
for experiment in ["softmax", "xavier", "dropout"]:
    row = {}
    for backend in ["wgpu", "flex"]:
        r = json.loads((art / backend / experiment / "latest" / "report.json").read_text())
        row[backend] = r
        each = ", ".join(f"{s:.2f}" for s in r["epoch_seconds"])
        print(f"{experiment:<10} {backend:<7} {each:<22} {r['test_accuracy']:>8.2f}%  {r['device']}")
    g, c = row["wgpu"]["epoch_seconds"][-1], row["flex"]["epoch_seconds"][-1]
    print(f"{'':<10} last epoch: flex / wgpu = {c / g:.1f}x")
print(f"\nartifacts: {art}")
PY
echo "total: $(( $(date +%s) - t0 )) s"
