#!/usr/bin/env python3
"""What a reader of a `lab10 site` waits for, measured in headless Chromium (Playwright on the
system's `chromium`), the site served by Python's http.server on 127.0.0.1:

- sizes: the WebAssembly module and its glue, raw and gzipped (`gzip -9`), and the whole site
  by part (models, test digits, report, page);
- loads: `--loads` fresh browser contexts (empty cache), each timing the page's own marks:
  the page's script started, WebAssembly started, every model loaded, first prediction shown
  (ms since the navigation started); the median of each;
- one prediction: `--reps` calls of every loaded model on one test digit (`Models.predict`, the
  call the page makes), and the drawing path (`prepare` of a 280x280 canvas, then predict); the
  median and 90th percentile per call, in one page after one warm-up call.

With `--screenshot PNG`, also draws a 7 with the mouse and takes a screenshot of the page (the
one in README.md and docs/site.md).

Usage (after `bash scripts/build-wasm.sh` and `lab10 site --out SITE`):
    python3 bench/site.py SITE [--loads 7] [--reps 200] [--out bench/results/site-2core.md]
                               [--screenshot docs/img/site.png]
"""
import argparse
import functools
import gzip
import http.server
import os
import platform
import shutil
import statistics
import subprocess
import threading

from playwright.sync_api import sync_playwright


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def gz(path):
    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), 9))


def sizes(site):
    parts = {}
    for root, _, files in os.walk(site):
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, site)
            part = rel.split(os.sep)[0] if os.sep in rel else "page (index.html, site.js, style.css, site.json)"
            if rel == "digits.bin":
                part = "test digits (digits.bin)"
            raw, packed = os.path.getsize(path), gz(path)
            total = parts.setdefault(part, [0, 0, 0])
            total[0] += 1
            total[1] += raw
            total[2] += packed
    return parts


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("site")
    ap.add_argument("--loads", type=int, default=7)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--out")
    ap.add_argument("--screenshot")
    args = ap.parse_args()

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=args.site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    loads = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                    args=["--no-sandbox"])
        version = browser.version
        for _ in range(args.loads):
            context = browser.new_context()
            page = context.new_page()
            page.goto(url)
            page.wait_for_function("document.body.dataset.state !== 'loading'", timeout=120_000)
            state = page.evaluate("document.body.dataset.state")
            if state != "ready":
                raise SystemExit(f"the page says {state}: {page.inner_text('#status')}")
            t = page.evaluate("""() => Object.assign({}, window.lab10.timings,
                { models_count: window.lab10.loaded.length })""")
            loads.append(t)
            context.close()

        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("document.body.dataset.state === 'ready'", timeout=120_000)
        calls = page.evaluate("""(reps) => {
            const lab = window.lab10;
            const input = new Float32Array(784);
            for (let i = 0; i < 784; i++) input[i] = lab.digits[i] / 255;
            // A drawn digit: test digit 0 at 10x on a 280x280 RGBA canvas (ink in alpha).
            const rgba = new Uint8Array(280 * 280 * 4);
            for (let y = 0; y < 280; y++) for (let x = 0; x < 280; x++)
                rgba[4 * (y * 280 + x) + 3] = lab.digits[Math.floor(y / 10) * 28 + Math.floor(x / 10)];
            const prepare = lab.prepare;
            lab.models.predict(input);
            const predict = [], draw = [];
            for (let r = 0; r < reps; r++) {
                const t0 = performance.now();
                lab.models.predict(input);
                const t1 = performance.now();
                lab.models.predict(prepare(rgba, 280, 280));
                const t2 = performance.now();
                predict.push(t1 - t0);
                draw.push(t2 - t1);
            }
            return { predict, draw, models: lab.loaded.length };
        }""", args.reps)
        if args.screenshot:
            shot = browser.new_page(viewport={"width": 1180, "height": 820})
            shot.goto(url)
            shot.wait_for_function("document.body.dataset.state === 'ready'", timeout=120_000)
            shot.click("#clear")
            box = shot.locator("#pad").bounding_box()
            for stroke in [[(60, 60), (210, 60)], [(210, 60), (120, 240)]]:
                at = [(box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280)
                      for x, y in stroke]
                shot.mouse.move(*at[0])
                shot.mouse.down()
                shot.mouse.move(*at[1], steps=12)
                shot.mouse.up()
            shot.wait_for_timeout(300)
            shot.screenshot(path=args.screenshot)
        browser.close()
    server.shutdown()

    def med(key):
        return statistics.median(l[key] for l in loads)

    wasm = os.path.join(args.site, "wasm", "lab10_site_wasm_bg.wasm")
    glue = os.path.join(args.site, "wasm", "lab10_site_wasm.js")
    models = loads[0]["models_count"]
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    lines = [
        f"# lab10 site in headless Chromium {version} ({os.cpu_count()} cores, {cpu}, "
        f"{platform.system()})",
        "",
        f"`python3 bench/site.py {args.site} --loads {args.loads} --reps {args.reps}`; "
        f"{models} models on the page.",
        "",
        "| file | raw | gzipped (-9) |",
        "| --- | ---: | ---: |",
        f"| wasm/lab10_site_wasm_bg.wasm | {os.path.getsize(wasm) / 1e6:.2f} MB | {gz(wasm) / 1e6:.2f} MB |",
        f"| wasm/lab10_site_wasm.js | {os.path.getsize(glue) / 1e3:.1f} kB | {gz(glue) / 1e3:.1f} kB |",
    ]
    parts = sizes(args.site)
    lines += ["", "| part of the site | files | raw | gzipped (-9) |", "| --- | ---: | ---: | ---: |"]
    for part, (files, raw, packed) in sorted(parts.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"| {part} | {files} | {raw / 1e6:.2f} MB | {packed / 1e6:.2f} MB |")
    total = [sum(v[i] for v in parts.values()) for i in range(3)]
    lines.append(f"| **whole site** | {total[0]} | {total[1] / 1e6:.2f} MB | {total[2] / 1e6:.2f} MB |")
    lines += [
        "",
        f"Loads (fresh context each, loopback; median of {args.loads}, min-max):",
        "",
        "| mark (ms since the navigation started) | median | min | max |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, what in [("script", "the page's script starts (HTML, CSS, site.js, the glue)"),
                      ("wasm", "WebAssembly compiled and started"),
                      ("models", f"all {models} models' weights fetched and loaded"),
                      ("first", "first prediction shown")]:
        vals = [l[key] for l in loads]
        lines.append(f"| {what} | {med(key):.0f} | {min(vals):.0f} | {max(vals):.0f} |")
    lines += [
        "",
        f"One prediction by all {models} models ({args.reps} calls in one page, after a warm-up):",
        "",
        "| call | median | p90 |",
        "| --- | ---: | ---: |",
        f"| `Models.predict` on a test digit | {statistics.median(calls['predict']):.2f} ms | "
        f"{percentile(calls['predict'], 0.9):.2f} ms |",
        f"| `prepare` (280x280 canvas) + `Models.predict` | {statistics.median(calls['draw']):.2f} ms | "
        f"{percentile(calls['draw'], 0.9):.2f} ms |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
