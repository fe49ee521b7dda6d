#!/usr/bin/env bash
# The GPU check, one script for a GPU machine that may have no Rust toolchain: lists the devices
# each lab10 build sees, runs bench/gpu.py (lab10 builds side by side with PyTorch on CUDA, then
# the five lesson experiments for 15 epochs), then profiles a step of softmax and dropout.
#
#   scripts/gpu-check.sh                  build here with cargo (three builds), then run
#   scripts/gpu-check.sh BIN_DIR          use binaries built elsewhere (see below)
#   OUT=dir EPOCHS=4 scripts/gpu-check.sh BIN_DIR
#
# BIN_DIR holds (each may be xz-compressed, NAME.xz):
#   lab10                      the gpu build: WGSL + fusion + autotune      (--features gpu)
#   lab10-spirv                SPIR-V + fusion + autotune                   (--features gpu,vulkan)
#   lab10-plain                WGSL, no fusion, no autotune  (--no-default-features --features flex,wgpu)
#   lab10-step-profile         the step_profile example of the gpu build
#   lab10-spirv-step-profile   the same from the vulkan build
# Missing ones are skipped. Needs nvidia-smi, a Vulkan driver, and a python3 with torch (CUDA)
# and numpy. Results go to $OUT (default bench/results/gpu-<time>).
# PARTS picks what runs (default "bench accuracy profile"; on an H200 the benchmark alone took
# about 7 minutes with three builds, the 15-epoch accuracy runs about 2 more).
# Containers: with no Vulkan loader installed, put Debian's libvulkan.so.1 in BIN_DIR/lib/; when
# NVIDIA's nvidia_icd.json names the GLX library (no vkCreateInstance without an X server), this
# script points the loader at the headless EGL one instead (docs/gpu.md).
set -uo pipefail
cd "$(dirname "$0")/.."
epochs=${EPOCHS:-4}
out=${OUT:-bench/results/gpu-$(date -u +%Y%m%d-%H%M)}
mkdir -p "$out"
t0=$(date +%s)
if [ $# -ge 1 ]; then
  bin=$(mktemp -d -t lab10-gpu-bin-XXXXXX)
  for f in "$1"/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .xz)
    if [ "$f" != "${f%.xz}" ]; then xz -dc "$f" > "$bin/$name"; else cp "$f" "$bin/$name"; fi
    chmod +x "$bin/$name"
  done
else
  bin=target/gpu-check
  mkdir -p "$bin"
  cargo build --release --no-default-features --features flex,wgpu && cp target/release/lab10 "$bin/lab10-plain"
  cargo build --release --bin lab10 --example step_profile --features gpu,vulkan && cp target/release/lab10 "$bin/lab10-spirv" \
    && cp target/release/examples/step_profile "$bin/lab10-spirv-step-profile"
  cargo build --release --bin lab10 --example step_profile --features gpu && cp target/release/lab10 "$bin/lab10" \
    && cp target/release/examples/step_profile "$bin/lab10-step-profile"
fi
echo "binaries ready: $(( $(date +%s) - t0 )) s"
parts=${PARTS:-bench accuracy profile}
if [ $# -ge 1 ] && [ -f "$1/lib/libvulkan.so.1" ]; then
  export LD_LIBRARY_PATH="$(cd "$1/lib" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
probe=$(ls "$bin"/lab10* 2>/dev/null | grep -v step-profile | head -1)
if [ -n "$probe" ] && ! "$probe" backends 2>/dev/null | grep -q "^wgpu .* on " \
   && [ -z "${VK_DRIVER_FILES:-}" ] && ldconfig -p | grep -q libEGL_nvidia.so.0; then
  icd=$(mktemp -t nvidia-egl-icd-XXXXXX.json)
  printf '{"file_format_version":"1.0.1","ICD":{"library_path":"libEGL_nvidia.so.0","api_version":"1.3.0"}}' > "$icd"
  export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  echo "no Vulkan adapter through the installed ICD; using NVIDIA's EGL ICD ($icd)"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"
python=python3
"$python" -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
  | tee "$out/torch.txt"

builds=()
[ -x "$bin/lab10-spirv" ] && builds+=(--lab10 "spirv+fusion+autotune=$bin/lab10-spirv:vulkan")
[ -x "$bin/lab10" ] && builds+=(--lab10 "wgsl+fusion+autotune=$bin/lab10:wgpu" --warm "wgsl+fusion+autotune")
[ -x "$bin/lab10-plain" ] && builds+=(--lab10 "wgsl plain=$bin/lab10-plain:wgpu")
for b in lab10 lab10-spirv lab10-plain; do
  [ -f "$bin/$b" ] || continue
  [ -x "$bin/$b" ] && { echo "== $b backends"; "$bin/$b" backends; } 2>&1 | tee -a "$out/backends.txt"
done
accuracy=()
case " $parts " in *" accuracy "*)
  [ -x "$bin/lab10" ] && accuracy=(--accuracy "wgsl+fusion+autotune")
  [ -n "${ACCURACY:-}" ] && accuracy=(--accuracy "$ACCURACY");;
esac
only=()
case " $parts " in *" bench "*) ;; *) only=(--models "" --no-torch) ;; esac
"$python" bench/gpu.py --epochs "$epochs" --python "$python" --out "$out" "${builds[@]}" \
  "${accuracy[@]}" "${only[@]}" 2>&1 | tee "$out/bench.log"
for pair in "lab10-step-profile wgpu" "lab10-spirv-step-profile vulkan"; do
  case " $parts " in *" profile "*) ;; *) break ;; esac
  set -- $pair
  [ -x "$bin/$1" ] || continue
  for model in softmax dropout; do
    echo "== $1 $model $2" | tee -a "$out/step-profile.txt"
    LAB10_REPO=. timeout 120 "$bin/$1" "$model" "$2" 200 2>&1 | tee -a "$out/step-profile.txt"
  done
done
echo "results: $out; total: $(( $(date +%s) - t0 )) s"
