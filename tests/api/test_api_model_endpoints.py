"""Liveness, readiness, /model and /load_model/, including loads that fail."""

from __future__ import annotations

import httpx
import pytest
from api_helpers import ADMIN, FACTORY, TcpProxy, api_env, running_api, wait_until
from servers import uvicorn_app


def test_health_answers_ok(api):
    response = httpx.get(f"{api}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_names_the_version_in_service(api, trained_model):
    response = httpx.get(f"{api}/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "model_version": trained_model.version}


def test_model_describes_the_loaded_model_and_its_spec(api, trained_model):
    response = httpx.get(f"{api}/model")

    assert response.status_code == 200
    body = response.json()
    assert body["model_name"] == "flight-delay"
    assert body["model_version"] == trained_model.version
    assert len(body["run_id"]) == 32
    assert body["source"] == "alias production"
    assert [f["name"] for f in body["feature_spec"]["features"]] == trained_model.spec.names


def test_load_model_without_body_loads_the_alias(api, trained_model):
    response = httpx.post(f"{api}/load_model/", headers=ADMIN)

    assert response.status_code == 200
    body = response.json()
    assert body["model_name"] == "flight-delay"
    assert body["model_version"] == trained_model.version
    assert body["loaded_at"]


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"version": "999"}, 404, "version 999 not found"),
        ({"version": "three"}, 422, "body.version"),
        ({"version": "1", "stage": "x"}, 422, "stage"),
        ([1], 422, "body"),
    ],
    ids=["unknown version", "not a number", "unknown field", "not an object"],
)
def test_a_failed_load_says_why_and_keeps_serving(api, record, trained_model, body, status, words):
    response = httpx.post(f"{api}/load_model/", json=body, headers=ADMIN)

    assert response.status_code == status
    assert words in response.json()["detail"]
    served = httpx.post(f"{api}/predict/", json=record)
    assert served.status_code == 200
    assert served.json()["model_version"] == trained_model.version


def test_mlflow_unreachable_is_503_and_the_model_keeps_serving(trained_model, log_db, record):
    mlflow_port = int(trained_model.tracking_uri.rsplit(":", 1)[1])
    proxy = TcpProxy(mlflow_port)
    env = api_env(trained_model, log_db)
    env["MLFLOW_TRACKING_URI"] = proxy.url
    with running_api(env) as url:
        proxy.cut()

        response = httpx.post(f"{url}/load_model/", headers=ADMIN, timeout=60)

        assert response.status_code == 503
        assert "MLflow unreachable" in response.json()["detail"]
        served = httpx.post(f"{url}/predict/", json=record)
        assert served.status_code == 200
        assert served.json()["model_version"] == trained_model.version
        info = httpx.get(f"{url}/model").json()
        assert "MLflow unreachable" in info["last_load_error"]


def test_ready_is_503_while_no_model_could_load(trained_model, log_db, record):
    env = api_env(trained_model, log_db, model_name="no-such-model")
    with uvicorn_app(FACTORY, env) as url:
        detail = wait_until(
            lambda: "not found" in (d := httpx.get(f"{url}/ready").json()["detail"]) and d,
            60,
            "the first load to fail",
        )

        assert httpx.get(f"{url}/ready").status_code == 503
        assert "'no-such-model'" in detail
        refused = httpx.post(f"{url}/predict/", json=record)
        assert refused.status_code == 503
        assert "no model loaded yet" in refused.json()["detail"]
        assert httpx.get(f"{url}/health").status_code == 200


def test_before_the_first_model_ready_says_it_is_waiting_for_it(postgres_db, tmp_path):
    """A fresh platform: MLflow holds no model at all until the first pipeline run."""
    from mlflow import MlflowClient

    registry = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(registry).search_registered_models()  # migrated up front, once
    env = {
        "MLFLOW_TRACKING_URI": registry,
        "DATA_DB_URL": postgres_db,
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
    }
    with uvicorn_app(FACTORY, env) as url:
        wait_until(
            lambda: "first load" not in httpx.get(f"{url}/ready").json()["detail"],
            60,
            "the first load to end",
        )
        ready = httpx.get(f"{url}/ready")
        predict = httpx.post(f"{url}/predict/", json={"month": 1})

    assert ready.status_code == 503
    assert ready.json()["detail"].startswith("no model loaded yet: waiting for the first model: ")
    assert "'flight-delay' alias 'production'" in ready.json()["detail"]
    assert predict.status_code == 503
    assert "waiting for the first model" in predict.json()["detail"]


def test_an_unreachable_mlflow_is_not_mistaken_for_a_fresh_platform(postgres_db):
    env = {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
        "DATA_DB_URL": postgres_db,
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
    }
    with uvicorn_app(FACTORY, env) as url:
        detail = wait_until(
            lambda: "first load" not in (d := httpx.get(f"{url}/ready").json()["detail"]) and d,
            120,
            "the first load to fail",
        )

    assert "MLflow unreachable" in detail
    assert "waiting for the first model" not in detail
