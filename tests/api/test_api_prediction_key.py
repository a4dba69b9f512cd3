"""The optional key of a prediction: echoed, validated as strictly as features, logged."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
import sqlalchemy as sa
from api_helpers import log_drained, metric, wait_until
from proyecto4_common.tables import inference_log, upgrade

FLIGHT = {"date": "2013-03-02", "carrier": "UA", "number": 1545, "origin": "EWR"}


def _post(api: str, body) -> httpx.Response:
    return httpx.post(f"{api}/predict/", json=body, timeout=30)


def _last_rows(db_url: str, n: int) -> list:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"SELECT * FROM inference_log ORDER BY id DESC LIMIT {n}")
        ).all()
    engine.dispose()
    return rows[::-1]


def _served(api: str, body) -> httpx.Response:
    """Posts and waits until the request's rows reached inference_log."""
    response = _post(api, body)
    log_drained(api)
    return response


def test_a_flight_key_is_echoed_and_logged_but_not_a_feature(api, log_db, record):
    response = _served(api, {**record, "key": {"flight": FLIGHT, "request_id": "r-1"}})

    row = _last_rows(log_db, 1)[0]
    assert response.status_code == 200
    assert response.json()["key"] == {"flight": FLIGHT, "request_id": "r-1"}
    assert response.json()["probability"] == _post(api, record).json()["probability"]
    assert "key" not in row.features
    assert (
        row.request_id,
        row.flight_date,
        row.flight_carrier,
        row.flight_number,
        row.flight_origin,
    ) == ("r-1", date(2013, 3, 2), "UA", 1545, "EWR")


def test_keys_in_a_list_stay_with_their_records(api, log_db, record):
    body = [{**record, "key": {"request_id": "a"}}, record, {**record, "key": {"flight": FLIGHT}}]

    response = _served(api, body)

    assert response.status_code == 200
    items = response.json()["predictions"]
    assert [item.get("key") for item in items] == [{"request_id": "a"}, None, {"flight": FLIGHT}]
    rows = _last_rows(log_db, 3)
    assert [(r.request_id, r.flight_number) for r in rows] == [
        ("a", None),
        (None, None),
        (None, 1545),
    ]


def test_without_a_key_the_answer_and_the_row_are_as_before(api, log_db, record):
    response = _served(api, record)

    assert response.status_code == 200
    assert "key" not in response.json()
    row = _last_rows(log_db, 1)[0]
    assert (row.request_id, row.flight_date) == (None, None)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("UA1545", "key: expected a JSON object"),
        (None, "key: expected a JSON object"),
        ({"flight": {**FLIGHT, "number": 1545.5}}, "key.flight.number"),
        ({}, "key: expected a JSON object"),
        ({"flight_no": 1}, "key: unknown field(s): flight_no"),
        ({"request_id": ""}, "key.request_id"),
        ({"request_id": "a b"}, "key.request_id"),
        ({"request_id": 7}, "key.request_id"),
        ({"flight": {**FLIGHT, "date": "20130302"}}, "key.flight.date"),
        ({"flight": {**FLIGHT, "date": "2013-02-30"}}, "key.flight.date"),
        ({"flight": {**FLIGHT, "carrier": "united"}}, "key.flight.carrier"),
        ({"flight": {**FLIGHT, "number": "1545"}}, "key.flight.number"),
        ({"flight": {**FLIGHT, "number": 0}}, "key.flight.number"),
        ({"flight": {**FLIGHT, "number": True}}, "key.flight.number"),
        ({"flight": {**FLIGHT, "origin": "ewr"}}, "key.flight.origin"),
        (
            {"flight": {k: v for k, v in FLIGHT.items() if k != "origin"}},
            "key.flight: missing field(s): origin",
        ),
        ({"flight": {**FLIGHT, "tail": "N1"}}, "key.flight: unknown field(s): tail"),
    ],
)
def test_a_malformed_key_is_a_422_naming_the_field(api, record, key, message):
    single = _post(api, {**record, "key": key})
    listed = _post(api, [record, {**record, "key": key}])

    assert single.status_code == 422
    assert message in single.json()["detail"]
    assert listed.status_code == 422
    assert listed.json()["detail"].startswith(f"record 1: {message}")


def test_the_openapi_record_describes_the_key(api):
    record = httpx.get(f"{api}/openapi.json").json()["components"]["schemas"]["Record"]

    assert "key" in record["properties"] and "key" not in record["required"]
    assert record["properties"]["key"]["properties"]["flight"]["required"] == list(FLIGHT)


@pytest.mark.parametrize("engine_url", ["postgres", "sqlite"])
def test_upgrade_adds_the_key_columns_to_a_table_of_an_older_release(
    engine_url, postgres_db, tmp_path
):
    url = postgres_db if engine_url == "postgres" else f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    old = sa.MetaData()
    sa.Table(
        inference_log.name,
        old,
        *[
            c.copy()
            for c in inference_log.columns
            if c.name
            not in ("request_id", "flight_date", "flight_carrier", "flight_number", "flight_origin")
        ],
    )
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO inference_log (created_at, features, prediction, probability, "
                "model_name, model_version, latency_ms) VALUES "
                "('2026-01-01T00:00:00+00:00', '{}', 1, 0.7, 'm', '1', 1.0)"
            )
        )

    for _ in range(2):  # and again: nothing left to add
        with engine.begin() as conn:
            upgrade(conn, inference_log)

    columns = {c["name"] for c in sa.inspect(engine).get_columns("inference_log")}
    indexes = {tuple(i["column_names"]) for i in sa.inspect(engine).get_indexes("inference_log")}
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT probability, flight_date FROM inference_log")).all()
    engine.dispose()
    assert {c.name for c in inference_log.columns} <= columns
    assert ("flight_date",) in indexes
    assert kept == [(0.7, None)]


def test_replay_sends_a_days_flights_with_their_keys(api, log_db, data_source_url, tmp_path):
    from pipeline.replay import replay
    from pipeline.settings import PipelineSettings

    settings = PipelineSettings(
        proyecto4_home=tmp_path, data_source_url=data_source_url, inference_api_url=api
    )
    day = date(2013, 3, 9)
    written = metric(api, "inference_log_rows_written_total")

    report = replay(settings, day, day, rate=0, batch=20)

    assert (report.days, report.failed) == (1, 0)
    wait_until(
        lambda: metric(api, "inference_log_rows_written_total") >= written + report.sent,
        60,
        "the replayed rows",
    )
    engine = sa.create_engine(log_db)
    with engine.connect() as conn:
        keyed = conn.execute(
            sa.text(
                "SELECT count(DISTINCT (flight_carrier, flight_number, flight_origin)) "
                "FROM inference_log WHERE flight_date = :d"
            ),
            {"d": day},
        ).scalar_one()
    engine.dispose()
    assert keyed == report.sent > 500
