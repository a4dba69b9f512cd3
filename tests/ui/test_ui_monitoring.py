"""The monitoring page reads inference_log from a real PostgreSQL database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from proyecto4_common.tables import inference_log, metadata
from sqlalchemy import create_engine


def write_log(url: str, rows: list[dict]) -> None:
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(inference_log.insert(), rows)
    engine.dispose()


def log_row(minute: int, prediction: int, latency_ms: float) -> dict:
    return {
        "created_at": datetime(2026, 11, 26, 10, 0, tzinfo=UTC) + timedelta(minutes=minute),
        "features": json.dumps({"carrier": "UA"}),
        "prediction": prediction,
        "probability": 0.8 if prediction else 0.2,
        "model_name": "flight-delay",
        "model_version": "2",
        "latency_ms": latency_ms,
    }


def test_monitoring_before_any_prediction_says_how_to_get_some(ui_env, run_page, postgres_db):
    ui_env(db=postgres_db)
    at = run_page("monitor")
    assert not at.exception
    assert not at.error
    [message] = [i.value for i in at.info]
    assert "No prediction has been logged yet" in message


def test_monitoring_shows_volume_share_delayed_and_latency(ui_env, run_page, postgres_db):
    # Four predictions over three minutes, one of them delayed.
    write_log(
        postgres_db,
        [log_row(0, 0, 10.0), log_row(0, 1, 20.0), log_row(1, 0, 30.0), log_row(2, 0, 40.0)],
    )
    ui_env(db=postgres_db)
    at = run_page("monitor")
    assert not at.exception
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Predictions"] == "4"
    assert metrics["Predicted delayed"] == "25.0%"
    assert metrics["Median latency"] == "25.0 ms"
    subheaders = [s.value for s in at.subheader]
    assert "Volume (predictions per minute)" in subheaders
    assert "Latency" in subheaders
    assert at.dataframe[0].value["model_version"].tolist() == ["2", "2", "2", "2"]


def test_monitoring_shows_live_quality_and_the_retraining_triggers(ui_env, run_page, postgres_db):
    from datetime import date

    from proyecto4_common.tables import model_quality, promotion_ledger

    write_log(postgres_db, [log_row(0, 0, 10.0)])
    engine = create_engine(postgres_db)
    with engine.begin() as conn:
        conn.execute(
            model_quality.insert(),
            [
                {
                    "day": date(2013, 3, d),
                    "model_name": "flight-delay",
                    "model_version": "2",
                    "count": 900,
                    "delayed": 200,
                    "auroc": a,
                    "accuracy": 0.8,
                    "log_loss": 0.4,
                    "calibration_error": 0.02,
                    "test_auroc": 0.74,
                    "computed_at": datetime.now(UTC),
                }
                for d, a in ((1, 0.73), (2, 0.61))
            ],
        )
        conn.execute(
            promotion_ledger.insert(),
            {
                "decided_at": datetime.now(UTC),
                "model_name": "flight-delay",
                "candidate_version": "3",
                "previous_version": "2",
                "metric": "test_auroc",
                "candidate_value": 0.75,
                "previous_value": 0.74,
                "promoted": True,
                "reason": "beats",
                "trigger": "quality decayed: v2 live AUROC 0.6100",
                "trigger_kind": "quality_decayed",
                "previous_live_auroc": 0.61,
                "previous_live_count": 900,
            },
        )
    engine.dispose()
    ui_env(db=postgres_db)

    at = run_page("monitor")

    assert not at.exception
    assert not at.error
    subheaders = [s.value for s in at.subheader]
    assert "Live quality (delayed outcomes)" in subheaders
    assert "Retraining triggers" in subheaders
    quality, triggers = at.dataframe[1].value, at.dataframe[2].value
    assert quality["auroc"].tolist() == [0.61, 0.73]
    assert triggers["trigger_kind"].tolist() == ["quality_decayed"]
    assert triggers["previous_live_auroc"].tolist() == [0.61]


def test_a_promotion_ledger_of_an_older_release_reads_with_empty_trigger_columns(postgres_db):
    from proyecto4_common.tables import promotion_ledger
    from sqlalchemy import MetaData, Table
    from streamlit_app.data_db import promotion_decisions

    new = {"trigger", "trigger_kind", "previous_live_auroc", "previous_live_count"}
    old = Table(
        promotion_ledger.name,
        MetaData(),
        *[c.copy() for c in promotion_ledger.columns if c.name not in new],
    )
    engine = create_engine(postgres_db)
    old.create(engine)
    with engine.begin() as conn:
        conn.execute(
            old.insert(),
            {
                "decided_at": datetime.now(UTC),
                "model_name": "flight-delay",
                "candidate_version": "1",
                "metric": "test_auroc",
                "candidate_value": 0.7,
                "promoted": True,
                "reason": "first",
            },
        )
    engine.dispose()

    ledger = promotion_decisions(postgres_db, 5)

    assert list(ledger.columns) == [c.name for c in promotion_ledger.columns]
    assert ledger["reason"].tolist() == ["first"]
    assert ledger["trigger"].isna().all()
