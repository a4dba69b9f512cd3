"""POST /predict/ is a route of the app like the others (fast_path.py): middleware added after
create_app wraps it, an unexpected exception in it is ServerErrorMiddleware's 500, it routes
behind a path prefix as FastAPI's routes do, and its OpenAPI entry is built with the rest."""

from __future__ import annotations

import httpx
import pytest
from api_helpers import (
    FACTORY,
    api_app,
    api_env,
    running_api,
    uvicorn_app,
    wait_until,
)
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware


def _ready(client: TestClient) -> None:
    wait_until(lambda: client.get("/ready").status_code == 200, 120, "the model loaded")


@pytest.mark.parametrize(
    "middleware, options, sent, header, value",
    [
        (
            GZipMiddleware,
            {"minimum_size": 0},
            {"accept-encoding": "gzip"},
            "content-encoding",
            "gzip",
        ),
        (
            CORSMiddleware,
            {"allow_origins": ["https://ui.example"]},
            {"origin": "https://ui.example"},
            "access-control-allow-origin",
            "https://ui.example",
        ),
    ],
    ids=["gzip", "cors"],
)
def test_middleware_added_after_create_app_wraps_predict(
    trained_model, log_db, record, middleware, options, sent, header, value
):
    app = api_app(trained_model, log_db)
    app.add_middleware(middleware, **options)

    with TestClient(app) as client:
        _ready(client)
        response = client.post("/predict/", json=record, headers=sent)

    assert response.status_code == 200
    assert response.headers[header] == value
    assert response.json()["model_version"] == trained_model.version


def test_an_unexpected_exception_in_predict_is_server_error_middlewares_500(
    trained_model, log_db, record
):
    app = api_app(trained_model, log_db)
    seen = []

    async def on_error(request, exc: Exception) -> JSONResponse:  # the app's 500 handler
        seen.append(type(exc))
        return JSONResponse({"detail": "handled by the app's handler"}, status_code=500)

    app.add_exception_handler(Exception, on_error)
    # No lifespan (TestClient outside `with`): no services, so the route fails at once.
    client = TestClient(app, raise_server_exceptions=False)

    response = client.post("/predict/", json=record)

    assert response.status_code == 500
    assert response.json() == {"detail": "handled by the app's handler"}
    assert seen == [AttributeError]


def test_over_http_an_unexpected_exception_is_a_json_500_not_a_dropped_connection(
    trained_model, log_db, record
):
    # `--lifespan off`: the app never builds its services, a fault of ours on every request.
    env = api_env(trained_model, log_db)
    with uvicorn_app(FACTORY, env, health="/health", options=["--lifespan", "off"]) as url:
        response = httpx.post(f"{url}/predict/", json=record)

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_behind_a_path_prefix_predict_routes_as_fastapis_routes_do(trained_model, log_db, record):
    env = api_env(trained_model, log_db)
    with running_api(env, "--root-path", "/flights") as url:
        predicted = httpx.post(f"{url}/predict/", json=record)
        redirected = httpx.post(f"{url}/predict", json=record)
        other_method = httpx.get(f"{url}/predict/")
        # The prefix twice is not a path of the app, for /predict/ as for /health.
        doubled = [
            httpx.post(f"{url}/flights/predict/", json=record),
            httpx.get(f"{url}/flights/health"),
        ]
        document = httpx.get(f"{url}/openapi.json").json()

    assert predicted.status_code == 200
    assert predicted.json()["model_version"] == trained_model.version
    assert redirected.status_code == 307
    assert redirected.headers["location"] == f"{url}/flights/predict/"
    assert other_method.status_code == 405
    assert [r.status_code for r in doubled] == [404, 404]
    assert document["servers"] == [{"url": "/flights"}]
    assert "post" in document["paths"]["/predict/"]


def test_the_openapi_entry_of_predict_names_its_body_answers_and_refusals(api):
    document = httpx.get(f"{api}/openapi.json").json()

    operation = document["paths"]["/predict/"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/Record"},
            {"$ref": "#/components/schemas/RecordList"},
        ]
    }
    assert [p["name"] for p in operation["parameters"]] == ["contributions"]
    responses = operation["responses"]
    assert set(responses) == {"200", "400", "401", "403", "415", "422", "503"}
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PredictResponse"
    }
    for status in ("415", "422"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorDetail"
        }
    schemas = document["components"]["schemas"]
    assert {"PredictResponse", "SinglePrediction", "PredictionList", "Prediction"} <= set(schemas)
