"""Each page says what is wrong, and what to do, when a part it needs is not there."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("page", ["app", "predict"])
def test_predict_says_the_api_is_down(ui_env, run_page, page):
    ui_env()
    at = run_page(page)
    assert not at.exception
    [message] = [e.value for e in at.error]
    assert "inference API cannot be reached" in message
    assert "proyecto4 serve api" in message
    assert not at.get("form")


@pytest.mark.parametrize("page", ["history", "explain"])
def test_registry_pages_say_mlflow_is_down(ui_env, run_page, page):
    ui_env()
    at = run_page(page)
    assert not at.exception
    [message] = [e.value for e in at.error]
    assert "MLflow cannot be reached" in message
    assert "MLFLOW_TRACKING_URI" in message


def test_monitoring_says_the_data_db_is_down(ui_env, run_page):
    ui_env()
    at = run_page("monitor")
    assert not at.exception
    [message] = [e.value for e in at.error]
    assert "data database cannot be read" in message
    assert "DATA_DB_URL" in message


def test_monitoring_hides_the_database_password(ui_env, run_page):
    ui_env(db="postgresql://postgres:s3cret@127.0.0.1:1/none")
    at = run_page("monitor")
    assert not at.exception
    [message] = [e.value for e in at.error]
    assert "s3cret" not in message
    assert "***" in message
