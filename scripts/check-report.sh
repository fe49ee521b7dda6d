#!/usr/bin/env bash
# Looks at a lab10 report the way a person would: renders index.html in headless Chromium,
# checks that every image loaded, and saves a screenshot next to it.
#
#   scripts/check-report.sh [REPORT_DIR]      (default: artifacts/report)
#
# Needs Debian's chromium (`apt-get install chromium`).
set -euo pipefail
dir=$(cd "${1:-artifacts/report}" && pwd)
page="file://$dir/index.html"
profile=$(mktemp -d)
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile" --virtual-time-budget=5000)
status=$(chromium "${flags[@]}" --dump-dom "$page" 2>/dev/null | grep -o '[0-9]* of [0-9]* images loaded' || true)
chromium "${flags[@]}" --window-size=1200,2400 --screenshot="$dir/screenshot.png" "$page" >/dev/null 2>&1
rm -rf "$profile"
echo "chromium: ${status:-no load status found}"
echo "screenshot: $dir/screenshot.png"
read -r ok _ total _ <<<"$status"
[ -n "${ok:-}" ] && [ "$ok" -gt 0 ] && [ "$ok" = "$total" ] || { echo "FAILED: not every image loaded" >&2; exit 1; }
