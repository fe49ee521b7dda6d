#!/usr/bin/env bash
# What --mlflow costs a training run: one lab10 binary trains the same experiment with and
# without --mlflow (a real `mlflow server` on loopback, SQLite store, started here), alternating,
# ROUNDS times; prints the median epoch seconds (as the run records them), the median wall time
# of the whole command (start, training, upload of the model and files at the end), and the
# ratios. Usage: bench/mlflow.sh LAB10 [EXPERIMENT] [EPOCHS] [ROUNDS]
set -euo pipefail
bin=$1 exp=${2:-xavier} epochs=${3:-3} rounds=${4:-5}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setsid mlflow server --host 127.0.0.1 --port "$port" --workers 1 \
  --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$work/mlartifacts" \
  >"$work/server.log" 2>&1 &
server=$!
trap 'kill -TERM -- "-$server" 2>/dev/null || true; rm -rf "$work"' EXIT
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.5; done
data=$(cd "$(dirname "$0")/.." && pwd)/data/mnist
for r in $(seq "$rounds"); do
  for side in off on; do
    flags=()
    [ "$side" = on ] && flags=(--mlflow "http://127.0.0.1:$port")
    start=$EPOCHREALTIME
    "$bin" --artifacts "$work/$side-$r" --data-dir "$data" train "$exp" --epochs "$epochs" "${flags[@]}" >/dev/null
    echo "$start $EPOCHREALTIME" >"$work/$side-$r/wall"
  done
done
python3 - "$work" "$rounds" <<'PY'
import glob, json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def metrics(side, r):
    return json.load(open(glob.glob(f"{work}/{side}-{r}/*/2*/metrics.json")[0]))
e = {s: [m["epoch_seconds"] for r in range(1, rounds + 1) for m in metrics(s, r)] for s in ("off", "on")}
def wall(side, r):
    start, end = map(float, open(f"{work}/{side}-{r}/wall").read().split())
    return end - start
w = {s: [wall(s, r) for r in range(1, rounds + 1)] for s in ("off", "on")}
for s in ("off", "on"):
    print(f"--mlflow {s}: epoch s median {statistics.median(e[s]):.3f} (all {', '.join(f'{x:.3f}' for x in e[s])}); "
          f"command wall s median {statistics.median(w[s]):.2f} (all {', '.join(f'{x:.2f}' for x in w[s])})")
print(f"on/off: epoch {statistics.median(e['on']) / statistics.median(e['off']):.4f}, "
      f"command {statistics.median(w['on']) / statistics.median(w['off']):.4f}")
PY
