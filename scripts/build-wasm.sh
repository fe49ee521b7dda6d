#!/usr/bin/env bash
# Builds the site's WebAssembly (crates/lab10-site/wasm: lab10-models and lab10-image on Burn's
# flex backend) and its JavaScript glue into target/site-wasm/, which `lab10 site` copies into
# every site. Needs the wasm32 target and the wasm-bindgen CLI of the exact version the crate
# pins (.ci/run installs both):
#   rustup target add wasm32-unknown-unknown
#   cargo install wasm-bindgen-cli --version 0.2.130
# Usage: bash scripts/build-wasm.sh [OUT_DIR]   (default: the repository's target/site-wasm)
set -euo pipefail
out=$(realpath -m "${1:-$(dirname "$0")/../target/site-wasm}")
cd "$(dirname "$0")/.."
crate=crates/lab10-site/wasm
want=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$crate/Cargo.toml")

targets=$(rustup target list --installed 2>/dev/null || true)
if ! grep -qx wasm32-unknown-unknown <<<"$targets"; then
  echo "error: the wasm32-unknown-unknown target is missing; run \`rustup target add wasm32-unknown-unknown\`" >&2
  exit 1
fi
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "error: wasm-bindgen ${have:-is not installed}${have:+ is installed, but} $crate pins $want;" \
       "run \`cargo install wasm-bindgen-cli --version $want\`" >&2
  exit 1
fi

start=$(date +%s)
# The crate's .cargo/config.toml sets the target and the flags; the target dir is set here so
# that a CARGO_TARGET_DIR of the caller's does not send the build elsewhere.
export CARGO_TARGET_DIR=$PWD/target/wasm
(cd "$crate" && cargo build --release --locked)
wasm=$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/lab10_site_wasm.wasm
staging=$(mktemp -d "${TMPDIR:-/tmp}/lab10-site-wasm.XXXXXX")
trap 'rm -rf "$staging"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$staging" "$wasm"
mkdir -p "$out"
for f in lab10_site_wasm.js lab10_site_wasm_bg.wasm; do
  install -m 644 "$staging/$f" "$out/.$f.tmp"
  mv -f "$out/.$f.tmp" "$out/$f"
done
raw=$(stat -c %s "$out/lab10_site_wasm_bg.wasm")
gz=$(gzip -9 -c "$out/lab10_site_wasm_bg.wasm" | wc -c)
echo "wrote $out/lab10_site_wasm_bg.wasm ($raw bytes, $gz gzipped) and lab10_site_wasm.js in $(( $(date +%s) - start )) s"
