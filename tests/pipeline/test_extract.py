"""extract_data: incremental, idempotent, retried on 5xx, all-or-nothing per day."""

from __future__ import annotations

import json
import logging
from datetime import date

import httpx
import pandas as pd
import pytest
from pipeline.db import make_engine
from pipeline.extract import MalformedBatch, create_raw_tables, ingest, parse_batch, watermark
from servers import uvicorn_app
from sqlalchemy import text


def _counts(url: str) -> dict[str, int]:
    with make_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT source_date, COUNT(*) FROM raw_data GROUP BY source_date"))
        return {str(d): n for d, n in rows}


def _source_count(source_url: str, day: str) -> int:
    return httpx.get(f"{source_url}/data", params={"group": 1, "date": day}).json()["count"]


def test_first_run_starts_at_start_date_and_continues_from_watermark(settings, data_source_url):
    create_raw_tables(settings)
    settings.pipeline_days_per_run = 2
    first = ingest(settings)
    second = ingest(settings)

    assert (first.first_date, first.last_date) == ("2013-01-01", "2013-01-02")
    assert (second.first_date, second.last_date) == ("2013-01-03", "2013-01-04")
    counts = _counts(settings.data_db_url)
    assert counts == {d: _source_count(data_source_url, d) for d in counts}
    assert watermark(make_engine(settings.data_db_url), 1) == date(2013, 1, 4)


def test_reingesting_a_window_changes_nothing(settings):
    create_raw_tables(settings)
    ingest(settings, until=date(2013, 1, 3))
    engine = make_engine(settings.data_db_url)
    before = pd.read_sql(
        "SELECT * FROM raw_data ORDER BY source_date, carrier, flight, sched_dep_time", engine
    )

    again = ingest(settings, start=date(2013, 1, 1), until=date(2013, 1, 3))
    after = pd.read_sql(
        "SELECT * FROM raw_data ORDER BY source_date, carrier, flight, sched_dep_time", engine
    )

    assert again.rows == len(before) > 0
    pd.testing.assert_frame_equal(before, after)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ingestion_ledger")).scalar_one() == 3


def test_blocks_smaller_than_a_day_write_the_same_rows(settings):
    create_raw_tables(settings)
    settings.pipeline_block_size = 100
    report = ingest(settings, until=date(2013, 1, 2))

    assert sum(_counts(settings.data_db_url).values()) == report.rows > 200


def test_server_errors_are_retried_until_success(settings, caplog):
    with uvicorn_app(
        "data_source.app:create_app",
        {"DATA_SOURCE_ERROR_RATE": "0.5", "DATA_SOURCE_SEED": "7"},
    ) as flaky:
        settings.data_source_url = flaky
        settings.pipeline_request_attempts = 12
        create_raw_tables(settings)
        with caplog.at_level(logging.WARNING, logger="pipeline.extract"):
            report = ingest(settings, until=date(2013, 1, 4))

    retries = [r for r in caplog.records if "503" in r.getMessage()]
    assert report.days == 4
    assert len(retries) >= 1


def test_a_refused_request_fails_at_once_with_the_reason(settings):
    create_raw_tables(settings)
    settings.pipeline_group = 99  # the source has one group

    with pytest.raises(ValueError, match=r"data source refused /data.*422"):
        ingest(settings, until=date(2013, 1, 1))
    assert _counts(settings.data_db_url) == {}


def test_a_malformed_day_writes_nothing_of_that_day(settings, corrupting_source):
    url, corrupt = corrupting_source
    corrupt["2013-01-03"] = lambda p: json.dumps(
        {**p, "rows": [{k: v for k, v in r.items() if k != "carrier"} for r in p["rows"]]}
    ).encode()
    settings.data_source_url = url
    create_raw_tables(settings)

    with pytest.raises(MalformedBatch, match=r"group 1, 2013-01-03: rows lack column\(s\) carrier"):
        ingest(settings, until=date(2013, 1, 5))

    assert sorted(_counts(settings.data_db_url)) == ["2013-01-01", "2013-01-02"]
    assert watermark(make_engine(settings.data_db_url), 1) == date(2013, 1, 2)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "expected a JSON object with a 'rows' list"),
        ({"rows": "x"}, "expected a JSON object with a 'rows' list"),
        ({"count": 2, "rows": []}, "'count' says 2 but 0 rows came"),
        ({"rows": [1]}, "every row must be a JSON object"),
        ({"rows": [{"carrier": "AA"}]}, "rows lack column"),
    ],
)
def test_parse_batch_names_what_is_wrong(payload, message):
    with pytest.raises(MalformedBatch, match=message):
        parse_batch(
            payload, 1, date(2013, 1, 1), ["source_group", "source_date", "carrier", "distance"]
        )


def test_parse_batch_rejects_wrong_types():
    columns = ["carrier", "distance"]
    with pytest.raises(MalformedBatch, match="column distance must hold numbers, got 'far'"):
        parse_batch({"rows": [{"carrier": "AA", "distance": "far"}]}, 1, date(2013, 1, 1), columns)
    with pytest.raises(MalformedBatch, match="column carrier must hold text, got 7"):
        parse_batch({"rows": [{"carrier": 7, "distance": 1.0}]}, 1, date(2013, 1, 1), columns)


def test_sqlite_default_store_is_written_too(settings, tmp_path):
    settings.data_db_url = f"sqlite:///{tmp_path / 'data.db'}"
    create_raw_tables(settings)
    report = ingest(settings, until=date(2013, 1, 2))
    ingest(settings, start=date(2013, 1, 1), until=date(2013, 1, 2))

    assert sum(_counts(settings.data_db_url).values()) == report.rows > 0
