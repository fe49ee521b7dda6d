"""Opens a site written by `lab10 site` in headless Chromium, as a reader would, with Playwright.

Usage: python3 tests/browser/site.py SITE BROKEN_SITE SCREENSHOT.png DIGITS

Serves SITE and BROKEN_SITE from a static file server on 127.0.0.1 (Python's http.server: no
lab10 code), then:
  - on SITE: waits for the models, shows test digits 0..DIGITS-1 through the page's "Test digit
    #" form and reads every model's probabilities from the page; clears the pad, draws a 7 with
    mouse strokes, and reads the canvas's ink (its alpha channel), the 28x28 image the page
    showed and every model's answer; takes a screenshot;
  - on BROKEN_SITE (a copy of a site with a corrupt and a missing weights file): reads the
    page's status message and which rows still answer;
  - opens SITE's index.html as a file:// page and reads its message.
Prints one JSON object with what it saw; tests/site.rs checks it. Uses the system's Chromium
(Debian's `chromium`), so Playwright needs no browser download.
"""

import functools
import http.server
import json
import pathlib
import shutil
import sys
import threading

from playwright.sync_api import sync_playwright

site, broken, screenshot, digits = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=directory))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def stroke(page, points):
    """Mouse down at the first point, through the others, up; points in 0..280 pad units."""
    box = page.locator("#pad").bounding_box()

    def at(p):
        return box["x"] + p[0] * box["width"] / 280, box["y"] + p[1] * box["height"] / 280
    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(p), steps=12)
    page.mouse.up()


def rows(page):
    return page.evaluate("""() => [...document.querySelectorAll('tr.model')].map(tr => ({
        model: tr.dataset.model,
        predicted: tr.dataset.predicted === undefined ? null : tr.dataset.predicted,
        failed: tr.classList.contains('failed'),
        probabilities: [...tr.querySelectorAll('.bar')].map(b => b.dataset.p === undefined ? null : Number(b.dataset.p)),
    }))""")


def settled(page):
    """Waits for the page's next frame (drawing predictions are made on one)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


out = {"console_errors": []}
site_server, site_url = serve(site)
broken_server, broken_url = serve(broken)
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1180, "height": 1000})
    page.on("console", lambda m: m.type == "error" and out["console_errors"].append(m.text))
    page.goto(site_url)
    page.wait_for_function("document.body.dataset.state !== 'loading'", timeout=60_000)
    out["state"] = page.evaluate("document.body.dataset.state")
    out["status"] = page.inner_text("#status")
    out["timings"] = page.evaluate("window.lab10.timings")

    out["digits"] = []
    for i in range(digits):
        page.fill("#digit", str(i))
        page.press("#digit", "Enter")
        page.wait_for_function(f"document.querySelector('#sample-label').dataset.index === '{i}'")
        out["digits"].append({
            "index": i,
            "label": int(page.get_attribute("#sample-label", "data-label")),
            "rows": rows(page),
        })

    page.click("#clear")
    # A 7: the top bar, then the slanted stroke down.
    stroke(page, [(60, 60), (210, 60)])
    stroke(page, [(210, 60), (120, 240)])
    settled(page)
    out["drawing"] = page.evaluate("""() => {
        const pad = document.getElementById('pad');
        const rgba = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
        const ink = new Array(pad.width * pad.height);
        for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3];
        return { width: pad.width, height: pad.height, ink, last: window.lab10.last };
    }""")
    out["drawing"]["rows"] = rows(page)
    page.screenshot(path=screenshot, full_page=False)

    broken_page = browser.new_page()
    broken_page.goto(broken_url)
    broken_page.wait_for_function("document.body.dataset.state !== 'loading'", timeout=60_000)
    broken_page.wait_for_function("document.querySelector('tr.model:not(.failed)') === null || "
                                  "document.querySelector('tr.model:not(.failed)').dataset.predicted")
    out["broken"] = {
        "state": broken_page.evaluate("document.body.dataset.state"),
        "status": broken_page.inner_text("#status"),
        "rows": rows(broken_page),
    }

    file_page = browser.new_page()
    file_page.goto(pathlib.Path(site, "index.html").resolve().as_uri())
    file_page.wait_for_function("document.body.dataset.state !== 'loading'", timeout=30_000)
    out["file"] = {
        "state": file_page.evaluate("document.body.dataset.state"),
        "status": file_page.inner_text("#status"),
    }
    browser.close()
site_server.shutdown()
broken_server.shutdown()
print(json.dumps(out, allow_nan=False))
