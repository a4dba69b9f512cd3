"""A person's view of the UI: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium, shared by the UI tests and the container tests."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,2000",
)
# Generous: the page's first run imports MLflow on a machine other tests keep busy.
PAGE_WAIT_S = 180


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator:
    """A Selenium driver of headless Chromium (skips, or fails in CI, when none is installed)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = "Debian's chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " - CI must install them")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def predict_in_page(driver, url: str, screenshot: Path) -> str:
    """Opens the UI, presses Predict with the form's defaults, waits for the verdict and both
    charts, saves a screenshot; returns the category shown."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, PAGE_WAIT_S)
    driver.get(url)
    button = (By.XPATH, "//button[.//p[normalize-space()='Predict']]")
    shown = seen.visibility_of_element_located(
        (By.XPATH, "//h3[starts-with(normalize-space(), 'Prediction:')]")
    )
    # A click that lands while a slow page (a CPU-limited container) is still rerunning is
    # dropped by Streamlit: press again until the verdict shows, within the page's wait.
    deadline = time.monotonic() + PAGE_WAIT_S
    while True:
        wait.until(seen.element_to_be_clickable(button)).click()
        try:
            verdict = WebDriverWait(driver, 45).until(shown)
            break
        except TimeoutException:
            if time.monotonic() > deadline:
                raise
    # Both charts (probability, contributions) drawn before the picture is taken.
    wait.until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".vega-embed canvas, .vega-embed svg")) >= 2
    )
    screenshot.parent.mkdir(exist_ok=True)
    driver.save_screenshot(str(screenshot))
    assert "Probability of a delay" in driver.find_element(By.TAG_NAME, "body").text
    return verdict.text.removeprefix("Prediction:").strip()
