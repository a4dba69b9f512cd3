"""The monitoring page reads inference_log, model_quality and promotion_ledger from a real
PostgreSQL database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

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


def quality_row(version: str, day: int, auroc: float, **forward) -> dict:
    return {
        "day": date(2013, 3, day),
        "model_name": "flight-delay",
        "model_version": version,
        "count": 900,
        "delayed": 200,
        "auroc": auroc,
        "accuracy": 0.8,
        "log_loss": 0.4,
        "calibration_error": 0.02,
        "test_auroc": 0.74,
        "computed_at": datetime.now(UTC),
        **forward,
    }


def trigger_row(**overrides) -> dict:
    """A promotion_ledger row of a decayed-quality retrain that promoted its candidate."""
    return {
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
        **overrides,
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
    from proyecto4_common.tables import model_quality, promotion_ledger

    write_log(postgres_db, [log_row(0, 0, 10.0)])
    engine = create_engine(postgres_db)
    with engine.begin() as conn:
        conn.execute(
            model_quality.insert(), [quality_row("2", d, a) for d, a in ((1, 0.73), (2, 0.61))]
        )
        conn.execute(promotion_ledger.insert(), trigger_row())
    engine.dispose()
    ui_env(db=postgres_db)

    at = run_page("monitor")

    assert not at.exception
    assert not at.error
    subheaders = [s.value for s in at.subheader]
    assert "Live quality (delayed outcomes)" in subheaders
    assert "Retraining triggers" in subheaders
    quality, triggers = at.dataframe[2].value, at.dataframe[3].value
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


def charts(at) -> list[dict]:
    """The Vega-Lite specs of the page's charts, in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def test_monitoring_shows_the_live_interval_the_estimate_and_the_backtest_band(
    ui_env, run_page, postgres_db
):
    from proyecto4_common.tables import model_quality, promotion_ledger

    write_log(postgres_db, [log_row(0, 0, 10.0)])
    forward = {
        "auroc_low": 0.571,
        "auroc_high": 0.649,
        "estimated_auroc": 0.655,
        "backtest_auroc": 0.702,
        "backtest_auroc_low": 0.641,
    }
    engine = create_engine(postgres_db)
    with engine.begin() as conn:
        conn.execute(
            model_quality.insert(),
            [
                # Version 2 was trained before the forward figures: its rows carry none.
                quality_row("2", 1, 0.66, **dict.fromkeys(forward)),
                quality_row("3", 2, 0.70, **{**forward, "estimated_auroc": 0.69}),
                quality_row("3", 3, 0.61, **forward),
            ],
        )
        conn.execute(
            promotion_ledger.insert(),
            trigger_row(
                candidate_version="4",
                previous_version="3",
                trigger="quality decayed: v3 live AUROC 0.61 (0.571-0.649) < 0.641",
                difference=0.0123,
                difference_low=0.004,
                difference_high=0.021,
                comparison_rows=12600,
            ),
        )
    engine.dispose()
    ui_env(db=postgres_db)

    at = run_page("monitor")

    assert not at.exception
    assert not at.error
    newest = at.dataframe[1].value.set_index("version")
    assert newest.loc["3", "day"] == "2013-03-03"
    assert newest.loc["3", "live AUROC (95 % interval)"] == "0.610 (0.571 to 0.649)"
    assert newest.loc["3", "estimated AUROC (CBPE)"] == "0.655"
    assert newest.loc["3", "backtest AUROC"] == "0.702"
    assert newest.loc["3", "decay threshold"] == "0.641"
    # The older version's row has only its realized AUROC and says nothing else.
    assert newest.loc["2", "live AUROC (95 % interval)"] == "0.660"
    assert newest.loc["2", "estimated AUROC (CBPE)"] == ""

    quality_chart = next(c for c in charts(at) if "layer" in c and "AUROC" in json.dumps(c))
    marks = [layer["mark"]["type"] for layer in quality_chart["layer"]]
    assert marks == ["area", "line"]
    band = quality_chart["layer"][0]["encoding"]
    assert (band["y"]["field"], band["y2"]["field"]) == ("auroc_low", "auroc_high")
    figures = quality_chart["layer"][1]["encoding"]["strokeDash"]["scale"]["domain"]
    assert figures == [
        "realized",
        "estimated (CBPE)",
        "backtest mean",
        "decay threshold (backtest band)",
    ]
    # The test AUROC no longer stands as the baseline.
    assert "test (training)" not in json.dumps(quality_chart)

    triggers = at.dataframe[3].value
    assert triggers["comparison"].tolist() == ["+0.0123 (+0.0040 to +0.0210) on 12,600 rows"]


def test_monitoring_time_axes_are_24_hour_utc(ui_env, run_page, postgres_db):
    # Predictions at 15:45 UTC: the default labels read "03:45" (12-hour, no AM/PM).
    write_log(postgres_db, [log_row(345 + m, 0, 10.0) for m in range(0, 30, 5)])
    ui_env(db=postgres_db)

    at = run_page("monitor")

    assert not at.exception
    time_axes = [c["encoding"]["x"] for c in charts(at) if "encoding" in c]
    assert len(time_axes) == 3  # volume, share delayed, latency
    for x in time_axes:
        assert x["type"] == "temporal"
        assert x.get("scale", {}).get("type") == "utc"
        assert x.get("title") == "time (UTC)"
        labels = x.get("axis", {}).get("labelExpr", "")
        assert "utcFormat" in labels and "%H:%M" in labels
        assert "%I" not in labels
