#!/usr/bin/env bash
# What recording and checking SHA256SUMS costs a training run: two lab10 binaries (before and
# after, e.g. built from two commits) train the same experiment side by side, alternating,
# ROUNDS times; prints each epoch's train seconds (median over rounds and epochs) and whether
# the per-epoch metrics are bit-identical; then the time the newer binary spends in fsync per
# epoch (strace). Usage: bench/integrity.sh OLD_LAB10 NEW_LAB10 [EXPERIMENT] [EPOCHS] [ROUNDS]
set -euo pipefail
old=$1 new=$2 exp=${3:-xavier} epochs=${4:-2} rounds=${5:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$(cd "$(dirname "$0")/.." && pwd)/data/mnist
for r in $(seq "$rounds"); do
  for side in old new; do
    bin=${!side}
    "$bin" --artifacts "$work/$side-$r" --data-dir "$data" train "$exp" --epochs "$epochs" >/dev/null
  done
done
strace -f -e trace=fsync,fdatasync -T -o "$work/strace.txt" \
  "$new" --artifacts "$work/strace" --data-dir "$data" train "$exp" --epochs "$epochs" >/dev/null
python3 - "$work" "$rounds" "$epochs" <<'PY'
import glob, json, re, statistics, sys
work, rounds, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def metrics(side, r):
    return json.load(open(glob.glob(f"{work}/{side}-{r}/*/2*/metrics.json")[0]))
keys = ["train_loss", "train_accuracy", "valid_loss", "valid_accuracy"]
t = {s: [m["train_seconds"] for r in range(1, rounds + 1) for m in metrics(s, r)] for s in ("old", "new")}
e = {s: [m["epoch_seconds"] for r in range(1, rounds + 1) for m in metrics(s, r)] for s in ("old", "new")}
for s in ("old", "new"):
    print(f"{s}: train s/epoch median {statistics.median(t[s]):.3f} (all {', '.join(f'{x:.3f}' for x in t[s])}); "
          f"epoch s median {statistics.median(e[s]):.3f}")
print(f"new/old: train {statistics.median(t['new']) / statistics.median(t['old']):.4f}, "
      f"epoch {statistics.median(e['new']) / statistics.median(e['old']):.4f}")
same = all([[m[k] for k in keys] for m in metrics("old", r)] == [[m[k] for k in keys] for m in metrics("new", r)]
           for r in range(1, rounds + 1))
print("per-epoch metrics old vs new:", "bit-identical" if same else "DIFFERENT")
calls = [float(x) for x in re.findall(r"<([0-9.]+)>", open(f"{work}/strace.txt").read())]
es = statistics.median(e["new"])
print(f"fsync: {len(calls)} calls, {sum(calls):.4f} s in all, {sum(calls) / epochs:.4f} s per epoch "
      f"({100 * sum(calls) / epochs / es:.2f} % of a {es:.2f} s epoch; includes the run's start and end)")
PY
