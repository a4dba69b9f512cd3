"""POST /predict/ is a route of the app like the others (fast_path.py): middleware added after
create_app wraps it, an unexpected exception in it is ServerErrorMiddleware's 500, it routes
behind a path prefix as FastAPI's routes do, its OpenAPI entry is built with the rest, and a
body above INFERENCE_API_MAX_BODY_BYTES gets 413 before it is parsed, leaving no row."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from api_helpers import (
    FACTORY,
    api_app,
    api_env,
    database,
    log_drained,
    log_rows,
    metric,
    running_api,
    uvicorn_app,
    wait_until,
)
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

# A few records fit (one is about 0.4 KB); the largest test body is a few kilobytes.
LIMIT = 4096


def _ready(client: TestClient) -> None:
    wait_until(lambda: client.get("/ready").status_code == 200, 120, "the model loaded")


@pytest.fixture(scope="module")
def capped(trained_model, postgres_admin_url) -> Iterator[tuple[str, str]]:
    """An API with a body limit of LIMIT bytes and an inference_log database of its own:
    (API URL, database URL)."""
    with (
        database(postgres_admin_url) as db_url,
        running_api(api_env(trained_model, db_url, max_body_bytes=LIMIT)) as url,
    ):
        yield url, db_url


def _chunks(body: bytes, size: int = 500) -> Iterator[bytes]:
    # httpx sends a generator with Transfer-Encoding: chunked and no Content-Length.
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_body_declared_too_large_gets_413_before_it_is_parsed(capped):
    url, _ = capped
    # Not JSON at all: a 400 would mean the body was parsed first.
    body = b"x" * (LIMIT + 1)

    response = httpx.post(
        f"{url}/predict/", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"request body too large: {LIMIT + 1} bytes, at most {LIMIT} bytes "
        "(INFERENCE_API_MAX_BODY_BYTES); send fewer records per request"
    )


def test_a_chunked_body_gets_413_once_its_chunks_pass_the_limit(capped):
    url, _ = capped
    request = httpx.Request(
        "POST",
        f"{url}/predict/",
        content=_chunks(b"x" * (LIMIT * 3)),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in request.headers

    with httpx.Client() as client:
        response = client.send(request)

    assert response.status_code == 413
    assert response.json()["detail"].startswith(
        f"request body too large: more than {LIMIT} bytes sent, at most {LIMIT} bytes"
    )


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_at_the_limit_is_served(capped, record, chunked):
    url, _ = capped
    count = LIMIT // (len(json.dumps(record)) + 2)
    body = json.dumps([record] * count).encode()
    body += b" " * (LIMIT - len(body))  # JSON allows trailing whitespace
    assert len(body) == LIMIT

    response = httpx.post(
        f"{url}/predict/",
        content=_chunks(body) if chunked else body,
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 200
    assert len(response.json()["predictions"]) == count


def test_refused_bodies_are_counted_and_leave_no_row(capped, record):
    url, db_url = capped
    log_drained(url)
    rows, invalid = log_rows(db_url), metric(url, "predict_requests_total", outcome="invalid")
    too_many = json.dumps([record] * (LIMIT // len(json.dumps(record)) + 1)).encode()
    assert len(too_many) > LIMIT

    declared = httpx.post(
        f"{url}/predict/", content=too_many, headers={"content-type": "application/json"}
    )
    chunked = httpx.post(
        f"{url}/predict/", content=_chunks(too_many), headers={"content-type": "application/json"}
    )
    served = httpx.post(f"{url}/predict/", json=record)
    log_drained(url)

    assert (declared.status_code, chunked.status_code, served.status_code) == (413, 413, 200)
    assert log_rows(db_url) == rows + 1
    assert metric(url, "predict_requests_total", outcome="invalid") == invalid + 2


def test_the_default_limit_admits_a_largest_list_of_keyed_pretty_printed_records(record):
    from inference_api.settings import ApiSettings

    settings = ApiSettings()
    keyed = {
        **record,
        "key": {
            "request_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "flight": {"date": "2013-03-01", "carrier": "UA", "number": 1545, "origin": "EWR"},
        },
    }
    largest = json.dumps([keyed] * settings.max_records, indent=2).encode()

    # Twice over: room for longer numbers and request ids than the example's.
    assert 2 * len(largest) <= settings.max_body_bytes


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
    assert set(responses) == {"200", "400", "401", "403", "413", "415", "422", "503"}
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PredictResponse"
    }
    for status in ("413", "422"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorDetail"
        }
    schemas = document["components"]["schemas"]
    assert {"PredictResponse", "SinglePrediction", "PredictionList", "Prediction"} <= set(schemas)
