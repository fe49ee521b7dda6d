#!/usr/bin/env python3
"""Screenshots of MLflow's UI on lab10's runs, in headless Chromium (Debian's `chromium`, driven
by Playwright: no browser download), for docs/tracking.md.

    python3 scripts/mlflow-shots.py LAB10 ARTIFACTS OUT_DIR

Starts `mlflow server` on 127.0.0.1 (SQLite store in a temporary folder), sends every run under
ARTIFACTS to it with `LAB10 mlflow sync` into one MLflow experiment, `lab10/lesson`, then opens
the experiment's runs as charts (the accuracy curves) and MLflow's run comparison of all of them
(settings and metrics side by side), and writes mlflow-runs.png and mlflow-compare.png into
OUT_DIR. Needs `pip install mlflow playwright`.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

EXPERIMENT = "lab10/lesson"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)


def main():
    lab10, artifacts, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    store = Path(tempfile.mkdtemp())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        ["mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{store}/mlflow.db",
         "--artifacts-destination", str(store / "artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        subprocess.run([lab10, "--artifacts", str(artifacts), "mlflow", "sync", "--mlflow", url,
                        "--mlflow-experiment", EXPERIMENT], check=True)
        q = urllib.parse.urlencode({"experiment_name": EXPERIMENT})
        experiment = call(f"{url}/api/2.0/mlflow/experiments/get-by-name?{q}")["experiment"]["experiment_id"]
        runs = call(f"{url}/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment]})["runs"]
        ids = [r["info"]["run_id"] for r in runs]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            charts = f"{url}/#/experiments/{experiment}/runs?compareRunsMode=CHART"
            page.goto(charts)
            page.wait_for_timeout(6000)
            # MLflow 3 opens in its GenAI view with an assistant panel: the classic view instead.
            page.get_by_text("Model training", exact=True).first.click()
            page.get_by_role("button", name="Close").first.click()
            page.goto(charts)
            page.wait_for_timeout(6000)
            page.get_by_placeholder("Search metric charts").fill("accuracy")
            page.wait_for_timeout(3000)
            page.screenshot(path=str(out / "mlflow-runs.png"))
            compare = urllib.parse.quote(json.dumps(ids))
            page.set_viewport_size({"width": 1600, "height": 1700})
            page.goto(f"{url}/#/compare-runs?runs={compare}&experiments=%5B%22{experiment}%22%5D")
            page.wait_for_timeout(6000)
            # The table of the runs' settings that differ and their metrics, without the plots.
            page.get_by_text("Visualizations", exact=True).first.click()
            page.get_by_role("switch").first.click()  # the parameters: only those that differ
            page.wait_for_timeout(1000)
            page.mouse.move(800, 500)
            page.mouse.wheel(0, -20000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / "mlflow-compare.png"))
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
        shutil.rmtree(store, ignore_errors=True)
    print(f"wrote {out / 'mlflow-runs.png'} and {out / 'mlflow-compare.png'}")


if __name__ == "__main__":
    main()
