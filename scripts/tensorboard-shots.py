#!/usr/bin/env python3
"""Screenshots of TensorBoard on lab10's runs, in headless Chromium (Debian's `chromium`,
driven by Playwright: no browser download), for docs/tracking.md.

    python3 scripts/tensorboard-shots.py ARTIFACTS OUT_DIR

Starts `tensorboard --logdir ARTIFACTS` on 127.0.0.1, opens its scalars (the per-epoch
curves, test accuracy), HParams (the table of runs and their settings) and images (each run's
confusion matrix) views, and writes tensorboard-scalars.png, tensorboard-hparams.png and
tensorboard-images.png into OUT_DIR. Needs
`pip install tensorboard playwright`.
"""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    logdir, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    board = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1",
         "--port", str(port), "--reload_interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(3)  # the first load of the event files
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{url}/?pinnedCards=%5B%5D#scalars&tagFilter=accuracy")
            page.wait_for_timeout(6000)
            page.screenshot(path=str(out / "tensorboard-scalars.png"))
            page.goto(f"{url}/#hparams")
            page.wait_for_timeout(6000)
            page.screenshot(path=str(out / "tensorboard-hparams.png"))
            page.goto(f"{url}/?pinnedCards=%5B%5D#images&tagFilter=confusion")
            page.wait_for_timeout(6000)
            page.screenshot(path=str(out / "tensorboard-images.png"))
            browser.close()
    finally:
        board.terminate()
        board.wait()
    print(f"wrote tensorboard-scalars.png, tensorboard-hparams.png and tensorboard-images.png in {out}")


if __name__ == "__main__":
    main()
