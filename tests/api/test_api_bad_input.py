"""Every kind of bad input to POST /predict/ gets a 4xx whose message names the problem."""

from __future__ import annotations

import json

import httpx
import pytest
from proyecto4_common.feature_spec import CategoricalFeature, NumericFeature


def _first(spec, test):
    return next(f.name for f in spec.features if test(f))


def _numeric(spec):
    return _first(spec, lambda f: isinstance(f, NumericFeature))


def _integer(spec):
    return _first(spec, lambda f: isinstance(f, NumericFeature) and f.kind == "integer")


def _categorical(spec):
    return _first(spec, lambda f: isinstance(f, CategoricalFeature))


def _not_nullable(spec):
    return _first(spec, lambda f: not f.nullable)


def _with(record, name, value):
    return json.dumps({**record, name: value})


def _without(record, name):
    return json.dumps({k: v for k, v in record.items() if k != name})


# (case, body from (record, spec), content type, status, words the message must contain)
CASES = [
    (
        "missing field",
        lambda r, s: _without(r, s.names[0]),
        "application/json",
        422,
        lambda s: f"missing field(s): {s.names[0]}",
    ),
    (
        "unknown field",
        lambda r, s: _with(r, "wingspan", 3),
        "application/json",
        422,
        lambda s: "unknown field(s): wingspan",
    ),
    (
        "string for a number",
        lambda r, s: _with(r, _numeric(s), "12"),
        "application/json",
        422,
        lambda s: f"{_numeric(s)}: expected a number",
    ),
    (
        "boolean for a number",
        lambda r, s: _with(r, _numeric(s), True),
        "application/json",
        422,
        lambda s: f"{_numeric(s)}: expected a number",
    ),
    (
        "fraction for an integer",
        lambda r, s: _with(r, _integer(s), 1.5),
        "application/json",
        422,
        lambda s: f"{_integer(s)}: expected an integer",
    ),
    (
        "unknown category",
        lambda r, s: _with(r, _categorical(s), "ZZZ"),
        "application/json",
        422,
        lambda s: f"{_categorical(s)}: unknown category 'ZZZ'",
    ),
    (
        "number for a category",
        lambda r, s: _with(r, _categorical(s), 3),
        "application/json",
        422,
        lambda s: f"{_categorical(s)}: expected a string category",
    ),
    (
        "null where not nullable",
        lambda r, s: _with(r, _not_nullable(s), None),
        "application/json",
        422,
        lambda s: f"{_not_nullable(s)}: must not be null",
    ),
    (
        "infinite number",
        lambda r, s: _with(r, _numeric(s), 7).replace(": 7", ": 1e999"),
        "application/json",
        400,
        lambda s: "number is infinity",
    ),
    (
        "NaN",
        lambda r, s: _with(r, _numeric(s), 7).replace(": 7", ": NaN"),
        "application/json",
        400,
        lambda s: "malformed JSON",
    ),
    (
        "malformed JSON",
        lambda r, s: json.dumps(r)[:-1],
        "application/json",
        400,
        lambda s: "malformed JSON",
    ),
    ("empty body", lambda r, s: "", "application/json", 400, lambda s: "empty body"),
    ("empty list", lambda r, s: "[]", "application/json", 422, lambda s: "empty list"),
    (
        "oversized list",
        lambda r, s: json.dumps([r] * 21),
        "application/json",
        422,
        lambda s: "too many records: 21 in one request, at most 20",
    ),
    (
        "bad record in a list",
        lambda r, s: f"[{json.dumps(r)}, {_with(r, _categorical(s), 'ZZZ')}]",
        "application/json",
        422,
        lambda s: f"record 1: {_categorical(s)}: unknown category",
    ),
    (
        "a number, not a record",
        lambda r, s: "5",
        "application/json",
        422,
        lambda s: "expected a JSON object or a list of objects, got a number",
    ),
    (
        "a list of non-objects",
        lambda r, s: "[1, 2]",
        "application/json",
        422,
        lambda s: "record 0: expected a JSON object",
    ),
    (
        "wrong content type",
        lambda r, s: json.dumps(r),
        "text/plain",
        415,
        lambda s: "Content-Type must be application/json, got 'text/plain'",
    ),
    (
        "form content type",
        lambda r, s: json.dumps(r),
        "application/x-www-form-urlencoded",
        415,
        lambda s: "Content-Type must be application/json",
    ),
]


@pytest.mark.parametrize(
    "make_body, content_type, status, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_with_a_reason(
    api, record, trained_model, make_body, content_type, status, words
):
    spec = trained_model.spec
    response = httpx.post(
        f"{api}/predict/", content=make_body(record, spec), headers={"content-type": content_type}
    )

    assert response.status_code == status
    assert words(spec) in response.json()["detail"]


def test_no_content_type_is_refused(api, record):
    response = httpx.post(f"{api}/predict/", content=json.dumps(record))

    assert response.status_code == 415
    assert "Content-Type must be application/json, got 'none'" in response.json()["detail"]


def test_a_bad_query_parameter_is_named(api, record):
    response = httpx.post(f"{api}/predict/", params={"contributions": "maybe"}, json=record)

    assert response.status_code == 422
    # Word for word what FastAPI's validation said before /predict/ was served ahead of it.
    assert response.json()["detail"] == (
        "query.contributions: Input should be a valid boolean, unable to interpret input"
    )
