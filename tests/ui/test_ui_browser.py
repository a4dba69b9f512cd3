"""A person's view: headless Chromium opens the running app, makes a prediction, and the
page shows the category; the screenshot is kept in test-artifacts/ui-prediction.png."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from browser import chromium, predict_in_page
from proyecto4_common.net import free_port
from servers import REPO, running

ENTRY = REPO / "services" / "streamlit" / "streamlit_app" / "app.py"
SCREENSHOT = REPO / "test-artifacts" / "ui-prediction.png"


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "profile") as driver:
        yield driver


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
    category = predict_in_page(browser, ui_url, SCREENSHOT)
    assert category in ("on time", "delayed")
    assert SCREENSHOT.read_bytes().startswith(b"\x89PNG")
