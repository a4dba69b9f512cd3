"""The states before a model serves: nothing trained yet, or an API that has not loaded one."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient
from servers import uvicorn_app


@pytest.fixture
def empty_registry(tmp_path) -> str:
    """An MLflow store with no model at all (created up front so that the API and the
    page do not both migrate it at once)."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(uri).search_registered_models()
    return uri


def api_env(mlflow_uri: str, db: str, home, **extra) -> dict[str, str]:
    return {
        "MLFLOW_TRACKING_URI": mlflow_uri,
        "DATA_DB_URL": db,
        "PROYECTO4_HOME": str(home),
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
        **extra,
    }


@pytest.mark.parametrize("page", ["predict", "history", "explain"])
def test_before_any_training_each_page_says_it_is_waiting_for_the_first_model(
    ui_env, run_page, empty_registry, postgres_db, tmp_path, page
):
    with uvicorn_app(
        "inference_api.app:create_app", api_env(empty_registry, postgres_db, tmp_path)
    ) as api:
        ui_env(api=api, mlflow=empty_registry)
        at = run_page(page)

    assert not at.exception
    assert not at.error and not at.warning
    [message] = [i.value for i in at.info]
    assert message.startswith("**Waiting for the first model.**")
    assert "starts at install" in message and "proyecto4 pipeline run" in message
    assert not at.button


TOKEN = "ui-test-admin-token-0123456789"


@pytest.mark.parametrize(
    "ui_token, words",
    [
        (TOKEN, "ui-test-unset"),
        ("a-wrong-admin-token-0123456789", "wrong admin token"),
    ],
    ids=["the API's token", "a wrong token"],
)
def test_a_ui_with_the_admin_token_offers_to_load_and_reports_why_it_cannot(
    ui_env, run_page, trained_model, postgres_db, tmp_path, monkeypatch, ui_token, words
):
    # The API follows a model nobody registered, so it serves nothing while `production` exists.
    env = api_env(
        trained_model.tracking_uri,
        postgres_db,
        tmp_path,
        INFERENCE_API_MODEL_NAME="ui-test-unset",
        INFERENCE_API_ADMIN_TOKEN=TOKEN,
    )
    with uvicorn_app("inference_api.app:create_app", env) as api:
        ui_env(api=api, mlflow=trained_model.tracking_uri)
        monkeypatch.setenv("INFERENCE_API_ADMIN_TOKEN", ui_token)
        at = run_page("predict")
        assert not at.exception
        [message] = [w.value for w in at.warning]
        assert "serves no model" in message
        [load] = at.button
        assert load.label == "Load the production model"
        load.click().run()
    assert not at.exception
    [failure] = [e.value for e in at.error]
    assert "could not load the production model" in failure
    assert words in failure


def test_a_ui_without_the_admin_token_has_no_load_button_and_says_who_loads(
    ui_env, run_page, trained_model, postgres_db, tmp_path, monkeypatch
):
    env = api_env(
        trained_model.tracking_uri,
        postgres_db,
        tmp_path,
        INFERENCE_API_MODEL_NAME="ui-test-unset",
        INFERENCE_API_ADMIN_TOKEN=TOKEN,
    )
    with uvicorn_app("inference_api.app:create_app", env) as api:
        ui_env(api=api, mlflow=trained_model.tracking_uri)
        monkeypatch.delenv("INFERENCE_API_ADMIN_TOKEN", raising=False)
        at = run_page("predict")

    assert not at.exception
    assert not at.button
    [message] = [w.value for w in at.warning]
    assert "serves no model" in message
    assert "An operator loads the `production` model with the API's admin token" in message
    assert "Authorization: Bearer <admin token>" in message
