"""Headless Chromium through Selenium and the Debian chromium-driver, for report tests.

Selenium talks to `chromedriver` given by path, with `chromium` given by path: Selenium Manager
(which would try to download a driver) is never involved, so this works offline. Console errors
(script errors, failed loads, `console.error`) come from the driver's browser log.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class PageCheck:
    title: str
    svg_charts: int
    sections: list[str]
    text: str
    errors: list[dict[str, Any]]
    height: int


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by chromedriver (both from the Debian packages)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver_path):  # a failure, not a skip: the report tests are part of the suite (and of CI)
        missing = " and ".join(name for name, found in (("chromium", browser), ("chromedriver", driver_path)) if not found)
        pytest.fail(f"{missing} not found on PATH: install the Debian packages chromium and chromium-driver "
                    "(the README's test command needs them); .ci/run installs them", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--disable-extensions", "--no-first-run", "--disable-background-networking"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def check_page(driver: Any, page: Path, screenshot: Path | None = None) -> PageCheck:
    """Open a local page, collect what it rendered and every console error; optionally a full-page screenshot."""
    driver.get(page.resolve().as_uri())
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    if screenshot is not None:
        driver.set_window_size(1280, min(max(height + 120, 900), 16000))
        driver.save_screenshot(str(screenshot))
    svgs = int(driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).filter(s => s.getBoundingClientRect().width > 100 "
        "&& s.getBoundingClientRect().height > 20 && s.querySelectorAll('rect').length > 0).length"))
    sections = driver.execute_script("return Array.from(document.querySelectorAll('section h2')).map(h => h.textContent)")
    text = driver.execute_script("return document.body.innerText")
    errors = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]
    return PageCheck(driver.title, svgs, list(sections), text, errors, height)
