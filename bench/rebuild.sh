#!/usr/bin/env bash
# Warm-tree rebuild times of lab10's own crates: after an edit in training and after an edit in
# a run on disk, for the first command's build and the test command's (docs/building.md, "What
# splitting out lab10-runs costs"). Burn is not rebuilt; each number is one timed command.
#
#   bench/rebuild.sh TREE TRAINING_FILE RUN_ON_DISK_FILE [ROUNDS]
#   e.g. bench/rebuild.sh . crates/lab10-train/src/run/mod.rs crates/lab10-runs/src/store/report.rs
#
# To compare two commits without building Burn twice, check the other out as a worktree and
# give both the same CARGO_TARGET_DIR.
set -euo pipefail
tree=$1; train_file=$2; runs_file=$3; rounds=${4:-1}
cd "$tree"
cargo build --release -q
cargo test --release --workspace --no-run -q 2>/dev/null
timed() { local s; s=$(date +%s.%N); "$@" -q 2>/dev/null; echo "$(date +%s.%N) - $s" | bc; }
for i in $(seq "$rounds"); do
  touch "$train_file"; a=$(timed cargo build --release)
  touch "$runs_file"; b=$(timed cargo build --release)
  touch "$train_file"; c=$(timed cargo test --release --workspace --no-run)
  touch "$runs_file"; d=$(timed cargo test --release --workspace --no-run)
  echo "round $i: build after training edit $a s; after run-on-disk edit $b s; test build after training edit $c s; after run-on-disk edit $d s"
done
