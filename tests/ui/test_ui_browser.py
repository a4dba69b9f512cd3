"""A person's view: headless Chromium opens the running app, makes a prediction, and the
page shows the category; the screenshot is kept in test-artifacts/ui-prediction.png."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from servers import REPO, free_port, running

ENTRY = REPO / "services" / "streamlit" / "streamlit_app" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = REPO / "test-artifacts" / "ui-prediction.png"
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


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = "Debian's chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " - CI must install them")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


@pytest.fixture
def ui_url(api_url, trained_model, tmp_path):
    port = free_port()
    args = [
        str(Path(sys.executable).parent / "streamlit"),
        "run",
        str(ENTRY),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    env = {
        "INFERENCE_API_URL": api_url,
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "DATA_DB_URL": trained_model.data_db_url,
        "PROYECTO4_HOME": str(tmp_path / "home"),
    }
    url = f"http://127.0.0.1:{port}"
    with running(args, url + "/_stcore/health", env):
        yield url


def test_a_person_predicts_a_flight_in_the_browser(browser, ui_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, PAGE_WAIT_S)
    browser.get(ui_url)
    predict = wait.until(
        seen.element_to_be_clickable((By.XPATH, "//button[.//p[normalize-space()='Predict']]"))
    )
    predict.click()
    verdict = wait.until(
        seen.visibility_of_element_located(
            (By.XPATH, "//h3[starts-with(normalize-space(), 'Prediction:')]")
        )
    )
    # Both charts (probability, contributions) drawn before the picture is taken.
    wait.until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".vega-embed canvas, .vega-embed svg")) >= 2
    )
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
    category = verdict.text.removeprefix("Prediction:").strip()
    assert category in ("on time", "delayed")
    assert "Probability of a delay" in browser.find_element(By.TAG_NAME, "body").text
    assert SCREENSHOT.read_bytes().startswith(b"\x89PNG")
