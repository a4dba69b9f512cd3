"""Live quality: predictions joined with the outcomes that arrived, per day and version."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pytest
import sqlalchemy as sa
from pipeline.db import make_engine
from pipeline.extract import create_raw_tables
from pipeline.quality import VersionFacts, measure_live_quality
from pipeline.settings import PipelineSettings
from proyecto4_common.estimation import estimated_auroc
from proyecto4_common.feature_spec import Calibration, FeatureSpec
from proyecto4_common.tables import inference_log, metadata, model_quality

DAY1, DAY2, DAY3 = date(2013, 3, 1), date(2013, 3, 2), date(2013, 3, 3)
GROUP = 1


@pytest.fixture(params=["postgres", "sqlite"])
def settings(request, postgres_db, tmp_path):
    url = postgres_db if request.param == "postgres" else f"sqlite:///{tmp_path / 'data.db'}"
    settings = PipelineSettings(
        proyecto4_home=tmp_path / "home",
        data_db_url=url,
        pipeline_group=GROUP,
        quality_recompute_days=1,
    )
    create_raw_tables(settings)
    return settings


def _ingested(engine, day: date, flights: list[tuple[str, int, str, float | None]]) -> None:
    """raw_data rows of one day, as extraction writes them, and the day's ledger row."""
    with engine.begin() as conn:
        for carrier, number, origin, arr_delay in flights:
            conn.execute(
                sa.text(
                    "INSERT INTO raw_data (source_group, source_date, year, month, day, carrier, "
                    "flight, origin, arr_delay) VALUES (:g, :d, :y, :m, :dd, :c, :f, :o, :a)"
                ),
                {
                    "g": GROUP,
                    "d": day,
                    "y": day.year,
                    "m": day.month,
                    "dd": day.day,
                    "c": carrier,
                    "f": number,
                    "o": origin,
                    "a": arr_delay,
                },
            )
        conn.execute(
            sa.text(
                "INSERT INTO ingestion_ledger (source_group, source_date, row_count, ingested_at) "
                "VALUES (:g, :d, :n, :t)"
            ),
            {"g": GROUP, "d": day, "n": len(flights), "t": datetime(2026, 1, 1)},
        )


def _served(engine, version: str, day: date, flights: list[tuple[str, int, str, float]]) -> None:
    metadata.create_all(engine, tables=[inference_log])
    with engine.begin() as conn:
        conn.execute(
            inference_log.insert(),
            [
                {
                    "created_at": datetime.now(UTC),
                    "features": "{}",
                    "prediction": int(p >= 0.5),
                    "probability": p,
                    "model_name": "flight-delay",
                    "model_version": version,
                    "latency_ms": 1.0,
                    "flight_date": day,
                    "flight_carrier": c,
                    "flight_number": n,
                    "flight_origin": o,
                }
                for c, n, o, p in flights
            ],
        )


def _quality(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(model_quality)).mappings().all()
    return {
        (
            r["day"] if isinstance(r["day"], date) else date.fromisoformat(str(r["day"])),
            r["model_version"],
        ): dict(r)
        for r in rows
    }


def test_the_recorded_auroc_is_the_hand_computed_one(settings):
    engine = make_engine(settings.data_db_url)
    # Labels: 16 min late is delayed, 15 is not (training's threshold); no arrival delay
    # (cancelled) has no label; a flight of another group never arrives in this raw_data.
    _ingested(
        engine,
        DAY1,
        [
            ("UA", 1, "EWR", 16.0),
            ("UA", 2, "EWR", 15.0),
            ("AA", 1, "JFK", 120.0),
            ("AA", 2, "JFK", -5.0),
            ("B6", 3, "LGA", None),
        ],
    )
    _served(
        engine,
        "1",
        DAY1,
        [
            ("UA", 1, "EWR", 0.9),
            ("UA", 2, "EWR", 0.2),
            ("AA", 1, "JFK", 0.4),
            ("AA", 2, "JFK", 0.6),
            ("B6", 3, "LGA", 0.99),
            ("DL", 9, "LGA", 0.01),
        ],
    )
    # The same day served by a second version, and a day whose outcomes have not arrived.
    _served(engine, "2", DAY1, [("UA", 1, "EWR", 0.7), ("UA", 2, "EWR", 0.3)])
    _served(engine, "1", DAY2, [("UA", 1, "EWR", 0.9)])

    # v1's spec maps probabilities halfway towards 0.5: estimates use the calibrated ones.
    spec = FeatureSpec(
        model_name="flight-delay",
        target="delayed",
        features=[],
        calibration=Calibration(x=[0.0, 1.0], y=[0.25, 0.75]),
    )
    facts = {"1": VersionFacts(0.71, 0.70, 0.64, spec)}

    report = measure_live_quality(settings, versions=lambda n, v: facts.get(v, VersionFacts()))

    quality = _quality(engine)
    assert report == {"days": ["2013-03-01"], "rows": 2}
    assert set(quality) == {(DAY1, "1"), (DAY1, "2")}
    v1 = quality[DAY1, "1"]
    # Pairs (delayed, on time): (0.9, 0.2) (0.9, 0.6) (0.4, 0.2) ranked right, (0.4, 0.6) not.
    assert v1["auroc"] == pytest.approx(3 / 4)
    assert (v1["count"], v1["delayed"]) == (4, 2)
    assert v1["accuracy"] == pytest.approx(2 / 4)
    assert v1["log_loss"] == pytest.approx(-(math.log(0.9) + math.log(0.8) + 2 * math.log(0.4)) / 4)
    # One prediction per bin: mean of |label - probability|.
    assert v1["calibration_error"] == pytest.approx((0.1 + 0.2 + 0.6 + 0.6) / 4)
    assert v1["test_auroc"] == pytest.approx(0.71)
    assert (v1["backtest_auroc"], v1["backtest_auroc_low"]) == (0.70, 0.64)
    # Hanley-McNeil by hand, A = 3/4 on 2 delayed and 2 on-time flights:
    # Q1 = A/(2-A) = 0.6, Q2 = 2A^2/(1+A) = 0.642857; SE^2 = (A(1-A) + (Q1-A^2) + (Q2-A^2))/4
    # = (0.1875 + 0.0375 + 0.080357)/4 = 0.076339, SE = 0.276295, half width 1.96 SE = 0.541532.
    assert v1["auroc_low"] == pytest.approx(0.75 - 0.541532, abs=1e-5)
    assert v1["auroc_high"] == 1.0  # clipped
    assert v1["estimated_auroc"] == pytest.approx(
        estimated_auroc(spec.calibration.apply(np.array([0.9, 0.2, 0.4, 0.6])))
    )
    assert v1["estimated_auroc"] != pytest.approx(estimated_auroc(np.array([0.9, 0.2, 0.4, 0.6])))
    assert quality[DAY1, "2"]["auroc"] == pytest.approx(1.0)
    assert quality[DAY1, "2"]["test_auroc"] is None
    assert quality[DAY1, "2"]["backtest_auroc_low"] is None


def test_days_are_recorded_when_their_outcomes_arrive_and_not_twice(settings):
    engine = make_engine(settings.data_db_url)
    _served(engine, "1", DAY1, [("UA", 1, "EWR", 0.9), ("UA", 2, "EWR", 0.2)])
    _served(engine, "1", DAY2, [("UA", 1, "EWR", 0.8)])
    assert measure_live_quality(settings, versions=lambda *_: VersionFacts())["rows"] == 0

    _ingested(engine, DAY1, [("UA", 1, "EWR", 30.0), ("UA", 2, "EWR", 0.0)])
    measure_live_quality(settings, versions=lambda *_: VersionFacts())
    assert set(_quality(engine)) == {(DAY1, "1")}

    _ingested(engine, DAY2, [("UA", 1, "EWR", 0.0)])
    _ingested(engine, DAY3, [])
    # A late prediction for DAY1 (no longer among the recent days): DAY1 is not recomputed.
    _served(engine, "1", DAY1, [("UA", 1, "EWR", 0.1)])
    second = measure_live_quality(settings, versions=lambda *_: VersionFacts())

    quality = _quality(engine)
    assert second["days"] == ["2013-03-02"]
    assert set(quality) == {(DAY1, "1"), (DAY2, "1")}
    assert quality[DAY1, "1"]["count"] == 2
    assert (quality[DAY2, "1"]["count"], quality[DAY2, "1"]["auroc"]) == (1, None)


def test_no_inference_log_yet_records_nothing(settings):
    assert measure_live_quality(settings, versions=lambda *_: VersionFacts()) == {
        "days": [],
        "rows": 0,
    }
