"""The API's live-quality gauges, read from the model_quality table the pipeline writes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from api_helpers import FACTORY, api_env, metric, wait_until
from proyecto4_common.tables import metadata, model_quality, promotion_ledger
from servers import free_port, uvicorn_app
from sqlalchemy.engine import make_url

# model_quality's columns newer than the API's first gauges.
NEW_COLUMNS = ("auroc_low", "auroc_high", "estimated_auroc", "backtest_auroc", "backtest_auroc_low")


def _quality_row(day: int, version: str, auroc: float | None, count: int) -> dict:
    return {
        "day": date(2013, 3, day),
        "model_name": "flight-delay",
        "model_version": version,
        "count": count,
        "delayed": count // 4,
        "auroc": auroc,
        "accuracy": 0.8,
        "log_loss": 0.45,
        "calibration_error": 0.03,
        "test_auroc": 0.74,
        "auroc_low": None if auroc is None else auroc - 0.03,
        "auroc_high": None if auroc is None else auroc + 0.03,
        "backtest_auroc": 0.71,
        "backtest_auroc_low": 0.66,
        "computed_at": datetime.now(UTC),
    }


def _ledger_row(kind: str | None) -> dict:
    return {
        "decided_at": datetime.now(UTC),
        "model_name": "flight-delay",
        "candidate_version": "2",
        "metric": "test_auroc",
        "candidate_value": 0.7,
        "promoted": True,
        "reason": "r",
        "trigger": "t" if kind else None,
        "trigger_kind": kind,
    }


def test_metrics_report_the_newest_day_per_version_and_the_retrains(postgres_db, tmp_path):
    engine = sa.create_engine(postgres_db)
    metadata.create_all(engine, tables=[model_quality, promotion_ledger])
    with engine.begin() as conn:
        conn.execute(
            model_quality.insert(),
            [
                _quality_row(1, "1", 0.70, 900),
                _quality_row(2, "1", 0.61, 850),
                _quality_row(2, "2", None, 3),
                _quality_row(1, "3", 0.99, 10),
            ],
        )
        conn.execute(
            promotion_ledger.insert(),
            [
                _ledger_row("quality_decayed"),
                _ledger_row("quality_decayed"),
                _ledger_row("always"),
                _ledger_row(None),
            ],
        )
    engine.dispose()
    env = {**api_env(_no_model(tmp_path), postgres_db, quality_refresh_s=0.2)}

    with uvicorn_app(FACTORY, env) as url:
        wait_until(lambda: metric(url, "model_live_auroc", model_version="1"), 30, "the gauges")
        values = {
            (name, labels): metric(url, name, **dict([labels]))
            for name, labels in [
                ("model_live_auroc", ("model_version", "1")),
                ("model_live_labelled_predictions", ("model_version", "1")),
                ("model_live_labelled_predictions", ("model_version", "2")),
                ("model_live_calibration_error", ("model_version", "1")),
                ("model_test_auroc", ("model_version", "1")),
                ("model_live_auroc_low", ("model_version", "1")),
                ("model_live_auroc_high", ("model_version", "1")),
                ("model_backtest_auroc", ("model_version", "1")),
                ("model_backtest_auroc_low", ("model_version", "1")),
                ("model_backtest_auroc_low", ("model_version", "2")),
                ("model_retrains", ("kind", "quality_decayed")),
                ("model_retrains", ("kind", "always")),
            ]
        }
        text = _metrics_text(url)

    assert values == {
        ("model_live_auroc", ("model_version", "1")): 0.61,
        ("model_live_labelled_predictions", ("model_version", "1")): 850,
        ("model_live_labelled_predictions", ("model_version", "2")): 3,
        ("model_live_calibration_error", ("model_version", "1")): 0.03,
        ("model_test_auroc", ("model_version", "1")): 0.74,
        ("model_live_auroc_low", ("model_version", "1")): pytest.approx(0.58),
        ("model_live_auroc_high", ("model_version", "1")): pytest.approx(0.64),
        ("model_backtest_auroc", ("model_version", "1")): 0.71,
        ("model_backtest_auroc_low", ("model_version", "1")): 0.66,
        ("model_backtest_auroc_low", ("model_version", "2")): 0.66,
        ("model_retrains", ("kind", "quality_decayed")): 2,
        ("model_retrains", ("kind", "always")): 1,
    }
    # No AUROC for a one-class day, so no interval either; a version absent from the newest
    # day is not reported.
    assert 'model_live_auroc{model_version="2"}' not in text
    assert 'model_live_auroc_high{model_version="2"}' not in text
    assert 'model_version="3"' not in text


def test_a_table_from_before_the_intervals_still_reports_under_any_url_spelling(
    postgres_db, tmp_path
):
    engine = sa.create_engine(postgres_db)
    metadata.create_all(engine, tables=[model_quality])
    # As an older release created it: the pipeline adds these columns on its next run.
    with engine.begin() as conn:
        for column in NEW_COLUMNS:
            conn.exec_driver_sql(f'ALTER TABLE model_quality DROP COLUMN "{column}"')
        old_row = {k: v for k, v in _quality_row(1, "1", 0.70, 900).items() if k not in NEW_COLUMNS}
        conn.execute(sa.insert(sa.table("model_quality", *map(sa.column, old_row))), old_row)
    engine.dispose()
    # libpq's spelling, which SQLAlchemy alone refuses.
    libpq_url = make_url(postgres_db).set(drivername="postgres").render_as_string(False)
    env = api_env(_no_model(tmp_path), libpq_url, quality_refresh_s=0.2)

    with uvicorn_app(FACTORY, env) as url:
        wait_until(lambda: metric(url, "model_live_auroc", model_version="1"), 30, "the gauges")
        auroc = metric(url, "model_live_auroc", model_version="1")
        text = _metrics_text(url)

    assert auroc == 0.70
    assert "model_live_auroc_low{" not in text
    assert "model_backtest_auroc{" not in text


def test_without_the_tables_the_gauges_are_empty_and_the_api_serves(postgres_db, tmp_path):
    env = api_env(_no_model(tmp_path), postgres_db, quality_refresh_s=0.2)

    with uvicorn_app(FACTORY, env) as url:
        text = _metrics_text(url)

    assert "# TYPE model_live_auroc gauge" in text
    assert "model_live_auroc{" not in text


class _no_model:
    """api_env's trained model, replaced by a tracking server nobody listens on: the API
    starts without a model (these tests read /metrics only)."""

    def __init__(self, tmp_path):
        self.tracking_uri = f"http://127.0.0.1:{free_port()}"


def _metrics_text(url: str) -> str:
    import httpx

    return httpx.get(f"{url}/metrics").text
