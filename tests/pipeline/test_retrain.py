"""When a run retrains: the pure decision over model_quality rows."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pipeline.drift import DayDrift
from pipeline.retrain import (
    DRIFT_HIGH,
    QUALITY_DECAYED,
    LastRetrain,
    LiveQuality,
    Reference,
    decide,
    live_quality,
)
from pipeline.settings import PipelineSettings
from proyecto4_common.estimation import auroc_interval


def _rows(*days: tuple[int, str, int, int, float | None, float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "day": date(2013, 3, d),
                "model_version": v,
                "count": n,
                "delayed": k,
                "auroc": a,
                "test_auroc": t,
            }
            for d, v, n, k, a, t in days
        ]
    )


def test_live_quality_pools_the_newest_days_of_the_version_with_an_interval():
    rows = _rows(
        (1, "1", 100, 20, 0.9, 0.8),
        (2, "1", 300, 60, 0.6, 0.8),
        (3, "1", 100, 25, 0.7, 0.8),
        (3, "2", 999, 200, 0.1, 0.9),
        (4, "1", 50, 10, None, 0.8),
    )

    live = live_quality(rows, "1", window_days=2)

    auroc = (300 * 0.6 + 100 * 0.7) / 400
    low, high = auroc_interval(auroc, 85, 315)
    assert live == LiveQuality(
        "1", pytest.approx(auroc), 400, 0.8, 2, 85, pytest.approx(low), pytest.approx(high)
    )
    assert live.auroc_low < live.auroc < live.auroc_high
    assert live_quality(rows, "3", window_days=2) is None


def _settings(**values) -> PipelineSettings:
    return PipelineSettings(
        **{"retrain_policy": "on_decay", "quality_min_count": 100, "quality_band_k": 3, **values}
    )


def _live(auroc: float, count: int = 5000, delayed: int = 1000) -> LiveQuality:
    low, high = auroc_interval(auroc, delayed, count - delayed)
    return LiveQuality("1", auroc, count, 0.72, 7, delayed, low, high)


# Backtest mean 0.72 with sd 0.02: the band starts at 0.72 - 3 x 0.02 = 0.66.
BAND = Reference(backtest_mean=0.72, backtest_sd=0.02, drift_mean=3.0, drift_sd=0.5)


@pytest.mark.parametrize(
    ("live", "production", "settings", "reference", "retrain", "reason"),
    [
        (None, "1", {"retrain_policy": "always"}, BAND, True, "every run retrains"),
        (None, None, {}, BAND, True, "no production model yet"),
        (None, "1", {}, BAND, False, "no live quality of v1 yet"),
        (_live(0.5, count=99, delayed=20), "1", {}, BAND, False, "fewer than 100"),
        (_live(0.5), "1", {}, Reference(), False, "no backtest band"),
        # Upper end of 0.62 +- 0.014 below 0.66: decayed, and the reason names both.
        (_live(0.62), "1", {}, BAND, True, "quality decayed: v1 live AUROC 0.6200 over 7 days"),
        (_live(0.62), "1", {}, BAND, True, "backtest band from 0.6600 (mean - 3 sd)"),
        # 0.65 is below the band, but not beyond its own noise: the interval reaches 0.66.
        (_live(0.65), "1", {}, BAND, False, "quality holds"),
        # The same figure on many more predictions is decay.
        (_live(0.65, count=100_000, delayed=20_000), "1", {}, BAND, True, "quality decayed"),
        (_live(0.62), "1", {"quality_band_k": 5}, BAND, False, "quality holds"),
    ],
)
def test_decide(live, production, settings, reference, retrain, reason):
    trigger = decide(live, production, _settings(**settings), reference=reference)

    assert trigger.retrain is retrain, trigger.reason
    assert reason in trigger.reason


def _drift(*psis: float) -> list[DayDrift]:
    return [DayDrift(date(2013, 4, i + 1), p, "temp", 7000) for i, p in enumerate(psis)]


HOLDS = _live(0.72)
DECAYED = _live(0.60)


# The drift threshold is the reference's mean + 3 sd: 3.0 + 3 x 0.5 = 4.5.
@pytest.mark.parametrize(
    ("live", "drift", "settings", "reference", "kind", "reason"),
    [
        (HOLDS, _drift(6, 6, 6), {}, BAND, DRIFT_HIGH, "drift stayed high: input drift PSI 6.00"),
        (HOLDS, _drift(6, 6, 6), {}, BAND, DRIFT_HIGH, "threshold 4.50 (training windows' mean"),
        (HOLDS, _drift(6, 4, 6), {}, BAND, None, "above it on 2 of the newest 3 days"),
        (HOLDS, _drift(6, 6), {}, BAND, None, "above it on 2 of the newest 3 days"),
        (HOLDS, _drift(4, 6, 6, 6), {}, BAND, DRIFT_HIGH, "above it on 3 of the newest 3 days"),
        (HOLDS, _drift(6, 6, 6), {"drift_band_k": 7}, BAND, None, "threshold 6.50"),
        (HOLDS, _drift(6, 6, 6), {"drift_trigger": False}, BAND, None, "drift trigger off"),
        (HOLDS, _drift(6, 6, 6), {}, Reference(0.72, 0.02), None, "no drift reference logged"),
        (HOLDS, [], {}, BAND, None, "no drift measured"),
        # Live quality decides first; the ledger's reason still shows the drift.
        (DECAYED, _drift(6, 6, 6), {}, BAND, QUALITY_DECAYED, "quality decayed: v1 live AUROC"),
        (None, _drift(6, 6, 6), {}, BAND, DRIFT_HIGH, "no live quality of v1 yet"),
    ],
)
def test_decide_retrains_when_drift_stays_high(live, drift, settings, reference, kind, reason):
    trigger = decide(live, "1", _settings(drift_days=3, **settings), drift, reference=reference)

    assert trigger.kind == kind
    assert trigger.retrain is (kind is not None)
    assert reason in trigger.reason
    assert [d["psi"] for d in trigger.as_dict()["drift"]] == [d.psi for d in drift]


def _retrained(days_ago: int) -> LastRetrain:
    return LastRetrain(date(2013, 4, 10), date(2013, 4, 10 + days_ago))


@pytest.mark.parametrize(
    ("live", "drift", "last", "settings", "kind", "reason"),
    [
        # A decayed production model whose candidate was kept out three days ago: no storm.
        (DECAYED, [], _retrained(3), {}, None, "cooling down: the last retraining used data"),
        (DECAYED, [], _retrained(3), {}, None, "until 2013-04-10, 3 of 7 days before another"),
        (HOLDS, _drift(6, 6, 6), _retrained(6), {}, None, "cooling down"),
        (DECAYED, [], _retrained(7), {}, QUALITY_DECAYED, "quality decayed"),
        (HOLDS, _drift(6, 6, 6), _retrained(7), {}, DRIFT_HIGH, "drift stayed high"),
        (DECAYED, [], _retrained(0), {"retrain_cooldown_days": 0}, QUALITY_DECAYED, "decayed"),
        # The cooldown only holds back a trigger: it never starts a retraining.
        (HOLDS, [], _retrained(1), {}, None, "quality holds"),
    ],
)
def test_no_trigger_retrains_within_the_cooldown_of_the_last_retraining(
    live, drift, last, settings, kind, reason
):
    trigger = decide(live, "1", _settings(drift_days=3, **settings), drift, last, BAND)

    assert trigger.kind == kind
    assert trigger.retrain is (kind is not None)
    assert reason in trigger.reason


def test_the_cooldown_never_holds_back_the_first_model():
    trigger = decide(None, None, _settings(), [], _retrained(0))

    assert trigger.retrain is True
    assert "no production model yet" in trigger.reason
