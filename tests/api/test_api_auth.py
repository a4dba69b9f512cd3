"""Who may call what: every endpoint x (no credential, wrong one, right one), with API keys
off and on, against real API processes; a refused load changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from api_helpers import (
    ADMIN,
    ADMIN_TOKEN,
    api_app,
    api_env,
    bearer,
    metric,
    running_api,
    versions_of,
)
from fastapi.testclient import TestClient

KEYS = ("key-one-0123456789abcdef", "key-two-0123456789abcdef")
WRONG = "wrong-0123456789abcdef0123"

# (method, path) of every endpoint; a test checks the list against the OpenAPI document.
ENDPOINTS = [
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/model"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("POST", "/predict/"),
    ("POST", "/load_model/"),
]
OPEN = {path: (200, 200, 200) for _, path in ENDPOINTS}
# Status for (no credential, wrong credential, right credential).
EXPECTED = {
    "keys off": {**OPEN, "/load_model/": (401, 403, 200)},
    "keys on": {**OPEN, "/load_model/": (401, 403, 200), "/predict/": (401, 403, 200)},
}
# The right credential of each endpoint: the admin token, an API key, or (open) anything.
RIGHT = {"/load_model/": ADMIN_TOKEN, "/predict/": KEYS[1]}


@pytest.fixture(scope="module")
def model_name(trained_model) -> Iterator[str]:
    """Versions 1 and 2, production on 2: a load of version 1 would be visible."""
    with versions_of(trained_model, 2, alias_on="2") as name:
        yield name


@pytest.fixture(scope="module", params=["keys off", "keys on"])
def api_with(request, trained_model, log_db, model_name) -> Iterator[tuple[str, str]]:
    keys = {"api_keys": ",\n".join(KEYS)} if request.param == "keys on" else {}
    env = api_env(trained_model, log_db, model_name=model_name, **keys)
    with running_api(env) as url:
        yield request.param, url


def _call(url: str, method: str, path: str, headers: dict, record: dict) -> httpx.Response:
    body = record if path == "/predict/" else None
    return httpx.request(method, url + path, json=body, headers=headers, timeout=60)


def _served(url: str) -> dict:
    info = httpx.get(f"{url}/model").json()
    return {k: info[k] for k in ("model_version", "loaded_at", "source")}


def test_the_table_covers_every_endpoint(api):
    paths = httpx.get(f"{api}/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}

    assert documented | {("GET", "/openapi.json"), ("GET", "/docs")} == set(ENDPOINTS)


@pytest.mark.parametrize("method, path", ENDPOINTS, ids=[p for _, p in ENDPOINTS])
def test_each_endpoint_answers_each_credential_as_the_table_says(api_with, method, path, record):
    mode, url = api_with
    credentials = {"none": {}, "wrong": bearer(WRONG), "right": bearer(RIGHT.get(path, WRONG))}

    statuses = []
    for headers in credentials.values():
        before = _served(url)
        response = _call(url, method, path, headers, record)
        statuses.append(response.status_code)
        if response.status_code in (401, 403):
            assert _served(url) == before, "a refused request changed the model in service"

    assert tuple(statuses) == EXPECTED[mode][path]


@pytest.mark.parametrize(
    "headers, status, reason",
    [
        ({}, 401, "missing"),
        ({"Authorization": "Basic YWRtaW46YWRtaW4="}, 401, "missing"),
        (bearer(WRONG), 403, "wrong"),
        (bearer(KEYS[0]), 403, "wrong"),
    ],
    ids=["no header", "not bearer", "wrong token", "an API key"],
)
def test_a_refused_load_keeps_the_served_version_says_why_and_is_counted(
    api_with, headers, status, reason
):
    _, url = api_with
    before = _served(url)
    counted = metric(url, "auth_refusals_total", endpoint="/load_model/", reason=reason)

    response = httpx.post(f"{url}/load_model/", json={"version": "1"}, headers=headers)

    assert response.status_code == status
    detail = response.json()["detail"]
    assert ("needs the admin token" in detail) if status == 401 else (detail == "wrong admin token")
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert _served(url) == before
    assert before["model_version"] == "2"
    assert metric(url, "auth_refusals_total", endpoint="/load_model/", reason=reason) == counted + 1


def test_the_admin_token_loads_a_version(api_with):
    _, url = api_with

    pinned = httpx.post(f"{url}/load_model/", json={"version": "1"}, headers=ADMIN, timeout=60)
    back = httpx.post(f"{url}/load_model/", headers=ADMIN, timeout=60)

    assert pinned.status_code == 200
    assert pinned.json()["model_version"] == "1"
    assert back.status_code == 200
    assert back.json()["model_version"] == "2"


def test_with_keys_on_each_key_predicts_and_others_are_refused(api_with, record):
    mode, url = api_with
    refused_before = metric(url, "auth_refusals_total", endpoint="/predict/", reason="wrong")
    served_before = metric(url, "predict_requests_total", outcome="success")

    answers = {
        name: httpx.post(f"{url}/predict/", json=record, headers=headers)
        for name, headers in {
            "first key": bearer(KEYS[0]),
            "second key": bearer(KEYS[1]),
            "admin token": ADMIN,
            "none": {},
            "wrong": bearer(WRONG),
        }.items()
    }

    statuses = {name: r.status_code for name, r in answers.items()}
    refused = metric(url, "auth_refusals_total", endpoint="/predict/", reason="wrong")
    served = metric(url, "predict_requests_total", outcome="success")
    if mode == "keys off":
        assert set(statuses.values()) == {200}
        assert (refused, served) == (refused_before, served_before + 5)
        return
    assert statuses == {
        "first key": 200,
        "second key": 200,
        "admin token": 403,
        "none": 401,
        "wrong": 403,
    }
    assert answers["none"].json()["detail"] == (
        "/predict/ needs an API key: send 'Authorization: Bearer <API key>'"
    )
    assert answers["none"].headers["www-authenticate"].startswith("Bearer")
    assert answers["wrong"].json()["detail"] == "unknown API key"
    assert (refused, served) == (refused_before + 2, served_before + 2)


def test_openapi_documents_the_schemes(api_with):
    mode, url = api_with
    document = httpx.get(f"{url}/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    assert schemes["AdminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["AdminToken"]["description"],
    }
    assert document["paths"]["/load_model/"]["post"]["security"] == [{"AdminToken": []}]
    predict = document["paths"]["/predict/"]["post"]
    assert predict.get("security") == ([{"ApiKey": []}] if mode == "keys on" else None)
    assert {"401", "403"} <= set(predict["responses"]) & set(
        document["paths"]["/load_model/"]["post"]["responses"]
    )


def test_without_an_admin_token_admin_endpoints_are_disabled(trained_model, log_db):
    app = api_app(trained_model, log_db, admin_token="")
    with TestClient(app) as client:
        refused = client.post("/load_model/", headers=ADMIN)
        counted = client.get("/metrics").text

    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "admin endpoints are disabled: the API was started without INFERENCE_API_ADMIN_TOKEN"
    )
    assert 'auth_refusals_total{endpoint="/load_model/",reason="not_configured"} 1.0' in counted


@pytest.mark.parametrize("setting", ["admin_token", "api_keys"])
def test_a_short_credential_stops_the_start_without_showing_it(trained_model, log_db, setting):
    app = api_app(trained_model, log_db, **{setting: "short-secret"})

    with pytest.raises(ValueError) as refused, TestClient(app):
        pass

    assert "at least 16 characters" in str(refused.value)
    assert "short-secret" not in str(refused.value)
