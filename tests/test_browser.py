"""The dashboard in a real browser: Debian's chromium driven by Playwright, against `solara run`.

Opens the page, moves a slider, presses Step, and checks that the step count, the table and the
figures change; the screenshot is kept as `results/dashboard.png` (or where `DASHBOARD_SCREENSHOT`
says: `docs/dashboard.png` for the README).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START = 120.0
"""Seconds to wait for `solara run` to answer."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server():
    port = free_port()
    solara = Path(sys.executable).with_name("solara")
    process = subprocess.Popen(
        [str(solara), "run", "sim/app.py", "--host", "127.0.0.1", "--port", str(port), "--no-open"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + SERVER_START
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        raise RuntimeError(f"solara run did not answer on port {port} within {SERVER_START:g} s")
    yield f"http://127.0.0.1:{port}/"
    process.terminate()
    process.wait(timeout=30)


def wait_for_text(page: Page, text: str, timeout: float = 60_000) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)


def figure_sources(page: Page) -> list[str]:
    return page.eval_on_selector_all("img", "images => images.map(i => i.src.slice(-200))")


@pytest.mark.slow
def test_the_dashboard_steps_and_reacts_to_a_slider_in_a_browser(server, tmp_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(server, timeout=120_000)
        wait_for_text(page, "step 0 of 40")
        before = figure_sources(page)
        assert len(before) >= 3
        page.get_by_role("button", name="Step").click()
        wait_for_text(page, "step 1 of 40")
        label = page.get_by_text("Iran: ideal on detainees", exact=True)
        slider = label.locator("xpath=ancestor::div[contains(@class,'v-input')][1]").locator("[role=slider]")
        assert slider.get_attribute("aria-valuenow") == "0.1"
        slider.focus()
        for _ in range(50):
            page.keyboard.press("ArrowRight")
        assert slider.get_attribute("aria-valuenow") == "0.6"
        page.get_by_role("button", name="Reset").click()
        wait_for_text(page, "step 0 of 40")
        interval = page.get_by_text("Render Interval (steps)", exact=True)
        interval = interval.locator("xpath=ancestor::div[contains(@class,'v-input')][1]").locator(
            "[role=slider]"
        )
        interval.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")  # redraw every 11 steps, not every step
        page.get_by_role("button", name="▶").click()
        wait_for_text(page, "Agreed: zones, detainees, demining.", timeout=240_000)
        assert figure_sources(page) != before
        target = Path(os.environ.get("DASHBOARD_SCREENSHOT", REPO / "results" / "dashboard.png"))
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=False)
        browser.close()
    assert target.stat().st_size > 10_000
