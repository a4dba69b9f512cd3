"""POST /predict/ on valid input: the answer mirrors the body and matches the booster."""

from __future__ import annotations

import math

import httpx
import pytest
from proyecto4_common.feature_spec import CategoricalFeature


def categoricals(spec):
    return [f for f in spec.features if isinstance(f, CategoricalFeature)]


def test_one_record_gets_one_answer_with_the_model(api, record, trained_model):
    response = httpx.post(f"{api}/predict/", json=record)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"probability", "prediction", "category", "model_name", "model_version"}
    assert 0.0 <= body["probability"] <= 1.0
    assert body["prediction"] == int(body["probability"] >= 0.5)
    assert body["category"] == trained_model.spec.category(body["prediction"])
    assert body["model_name"] == "flight-delay"
    assert body["model_version"] == trained_model.version


def test_a_list_gets_a_list_in_the_same_order(api, record, trained_model):
    single = httpx.post(f"{api}/predict/", json=record).json()
    other = dict(record)
    other.update({f.name: f.categories[-1] for f in categoricals(trained_model.spec)})

    response = httpx.post(f"{api}/predict/", json=[record, other, record])

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"predictions", "model_name", "model_version"}
    assert len(body["predictions"]) == 3
    assert body["predictions"][0]["probability"] == single["probability"]
    assert body["predictions"][2] == body["predictions"][0]
    assert all(set(p) == {"probability", "prediction", "category"} for p in body["predictions"])


def test_contributions_add_up_to_the_log_odds(api, record, trained_model):
    response = httpx.post(f"{api}/predict/", params={"contributions": "true"}, json=record)

    assert response.status_code == 200
    body = response.json()
    contributions = body["contributions"]
    assert list(contributions) == [*trained_model.spec.names, "bias"]
    log_odds = sum(contributions.values())
    assert math.isclose(1 / (1 + math.exp(-log_odds)), body["probability"], rel_tol=1e-6)


# /predict/ is served ahead of FastAPI (fast_path.py): its query must read as FastAPI's would.
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("contributions=yes", True),
        ("contributions=1", True),
        ("contributions=OFF", False),
        ("contributions=true&contributions=false", False),  # the last one counts
        ("unrelated=1", False),
        ("", False),
    ],
)
def test_the_contributions_parameter_reads_as_a_fastapi_bool(api, record, query, expected):
    response = httpx.post(f"{api}/predict/?{query}", json=record)

    assert response.status_code == 200
    assert ("contributions" in response.json()) is expected


def test_predict_without_its_slash_is_redirected_as_before(api, record):
    response = httpx.post(f"{api}/predict", json=record)

    assert response.status_code == 307
    assert response.headers["location"].endswith("/predict/")


def test_null_is_accepted_where_the_spec_allows_it(api, record, trained_model):
    nullable = [f.name for f in trained_model.spec.features if f.nullable]
    record.update({name: None for name in nullable})

    response = httpx.post(f"{api}/predict/", json=record)

    assert response.status_code == 200
    assert 0.0 <= response.json()["probability"] <= 1.0
