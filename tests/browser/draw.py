"""Draws on lab10 serve's page in headless Chromium, as a person would, with Playwright.

Usage: python3 tests/browser/draw.py URL SCREENSHOT.png
Draws a 1 and a 7 with mouse strokes, reads every model row after each (predicted class and
the sum of its probabilities), presses "Random test digit" and reads the label shown. Prints
one JSON line with what it saw; tests/serve.rs checks it. Uses the system's Chromium
(Debian's `chromium`), so Playwright needs no browser download.
"""

import json
import shutil
import sys

from playwright.sync_api import sync_playwright

url, screenshot = sys.argv[1], sys.argv[2]


def stroke(page, box, points):
    """Mouse down at the first point, through the others, up; points in 0..280 pad units."""
    def at(p):
        return box["x"] + p[0] * box["width"] / 280, box["y"] + p[1] * box["height"] / 280
    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(p), steps=12)
    page.mouse.up()


def settled(page):
    """Waits until no prediction is in flight, then reads every model row."""
    page.wait_for_function(
        "document.querySelector('tr.model') && document.querySelector('tr.model').dataset.predicted"
    )
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    return page.evaluate("""() => [...document.querySelectorAll('tr.model')].map(tr => ({
        model: tr.dataset.model,
        predicted: tr.querySelector('.predicted').textContent,
        sum: [...tr.querySelectorAll('.bar')].reduce((s, b) => s + Number(b.dataset.p), 0),
        bars: tr.querySelectorAll('.bar').length,
    }))""")


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1100, "height": 640})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    box = page.locator("#pad").bounding_box()
    seen = {}

    # A 1: one slightly slanted stroke down the middle.
    stroke(page, box, [(150, 40), (146, 140), (140, 240)])
    seen["1"] = settled(page)
    page.screenshot(path=screenshot.replace(".png", "-one.png"))

    # A 7: the bar, then the long diagonal.
    page.click("#clear")
    stroke(page, box, [(70, 60), (140, 58), (210, 60), (185, 120), (150, 190), (125, 250)])
    seen["7"] = settled(page)
    page.screenshot(path=screenshot.replace(".png", "-seven.png"))

    page.click("#random")
    page.wait_for_function("document.querySelector('#sample-label').dataset.label !== undefined")
    seen["random"] = settled(page)
    seen["sample"] = page.evaluate("""() => ({
        label: document.querySelector('#sample-label').dataset.label,
        text: document.querySelector('#sample-label').textContent,
    })""")
    page.screenshot(path=screenshot)
    browser.close()

if errors:
    sys.exit("page errors: " + "; ".join(errors))
print(json.dumps(seen))
