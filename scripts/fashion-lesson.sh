#!/usr/bin/env bash
# The lesson on Fashion-MNIST: the five lab models and the init, regularisation and dropout-sweep
# groups, 3 seeds, 15 epochs, full data, on flex; then the summaries are copied into
# results/fashion-mnist/. Groups reuse finished identical runs, so the five models trained by
# `lesson` are not trained again by the other groups. About an hour on 2 cores.
#
#   scripts/fashion-lesson.sh            # LAB10_BIN=path to use a prebuilt binary
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LAB10_BIN:-target/release/lab10}
artifacts=${ARTIFACTS:-artifacts}
for group in lesson init regularisation dropout-sweep; do
  "$bin" train --group "$group" --dataset fashion-mnist --backend flex --artifacts "$artifacts" </dev/null
done
for group in lesson init regularisation dropout-sweep; do
  latest=$(ls -d "$artifacts/fashion-mnist/groups/$group"/*/ | sort | tail -1)
  mkdir -p "results/fashion-mnist/groups/$group"
  cp "$latest/summary.md" "$latest/summary.json" "results/fashion-mnist/groups/$group/"
done
# The five lab models' seed-777 runs, whole (config, per-epoch metrics, report).
for e in softmax nn xavier deep dropout; do
  run=$(ls -d "$artifacts/fashion-mnist/$e"/*-flex-s777*/ | sort | tail -1)
  mkdir -p "results/fashion-mnist/runs/$e-s777"
  cp "$run/experiment.toml" "$run/metrics.csv" "$run/report.json" "results/fashion-mnist/runs/$e-s777/"
done
echo "summaries in results/fashion-mnist/groups/, runs in results/fashion-mnist/runs/"
