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
    decide,
    live_quality,
)
from pipeline.settings import PipelineSettings


def _rows(*days: tuple[int, str, int, float | None, float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"day": date(2013, 3, d), "model_version": v, "count": n, "auroc": a, "test_auroc": t}
            for d, v, n, a, t in days
        ]
    )


def test_live_quality_weighs_the_newest_days_of_the_version_by_their_counts():
    rows = _rows(
        (1, "1", 100, 0.9, 0.8),
        (2, "1", 300, 0.6, 0.8),
        (3, "1", 100, 0.7, 0.8),
        (3, "2", 999, 0.1, 0.9),
        (4, "1", 50, None, 0.8),
    )

    live = live_quality(rows, "1", window_days=2)

    assert live == LiveQuality("1", pytest.approx((300 * 0.6 + 100 * 0.7) / 400), 400, 0.8, 2)
    assert live_quality(rows, "3", window_days=2) is None


def _settings(**values) -> PipelineSettings:
    return PipelineSettings(
        **{
            "retrain_policy": "on_decay",
            "quality_min_count": 100,
            "quality_auroc_margin": 0.05,
            **values,
        }
    )


@pytest.mark.parametrize(
    ("live", "production", "settings", "retrain", "reason"),
    [
        (None, "1", {"retrain_policy": "always"}, True, "every run retrains"),
        (None, None, {}, True, "no production model yet"),
        (None, "1", {}, False, "no live quality of v1 yet"),
        (LiveQuality("1", 0.5, 99, 0.8, 3), "1", {}, False, "fewer than 100"),
        (LiveQuality("1", 0.5, 500, None, 3), "1", {}, False, "no test AUROC"),
        (
            LiveQuality("1", 0.7499, 500, 0.8, 3),
            "1",
            {},
            True,
            "quality decayed: v1 live AUROC 0.7499",
        ),
        (LiveQuality("1", 0.75, 500, 0.8, 3), "1", {}, False, "quality holds"),
        (
            LiveQuality("1", 0.70, 500, 0.8, 3),
            "1",
            {"quality_auroc_margin": 0.2},
            False,
            "quality holds",
        ),
    ],
)
def test_decide(live, production, settings, retrain, reason):
    trigger = decide(live, production, _settings(**settings))

    assert trigger.retrain is retrain
    assert reason in trigger.reason


def _drift(*psis: float) -> list[DayDrift]:
    return [DayDrift(date(2013, 4, i + 1), p, "temp", 7000) for i, p in enumerate(psis)]


HOLDS = LiveQuality("1", 0.78, 500, 0.8, 3)
DECAYED = LiveQuality("1", 0.70, 500, 0.8, 3)


@pytest.mark.parametrize(
    ("live", "drift", "settings", "kind", "reason"),
    [
        (HOLDS, _drift(6, 6, 6), {}, DRIFT_HIGH, "drift stayed high: input drift PSI 6.00 (temp"),
        (HOLDS, _drift(6, 4, 6), {}, None, "above 5 on 2 of the newest 3 days"),
        (HOLDS, _drift(6, 6), {}, None, "above 5 on 2 of the newest 3 days"),
        (HOLDS, _drift(4, 6, 6, 6), {}, DRIFT_HIGH, "above 5 on 3 of the newest 3 days"),
        (HOLDS, _drift(6, 6, 6), {"drift_psi_threshold": 0}, None, "drift trigger off"),
        (HOLDS, [], {}, None, "no drift measured"),
        # Live quality decides first; the ledger's reason still shows the drift.
        (DECAYED, _drift(6, 6, 6), {}, QUALITY_DECAYED, "quality decayed: v1 live AUROC 0.7000"),
        (None, _drift(6, 6, 6), {}, DRIFT_HIGH, "no live quality of v1 yet"),
    ],
)
def test_decide_retrains_when_drift_stays_high(live, drift, settings, kind, reason):
    trigger = decide(live, "1", _settings(drift_days=3, **settings), drift)

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
    trigger = decide(live, "1", _settings(drift_days=3, **settings), drift, last)

    assert trigger.kind == kind
    assert trigger.retrain is (kind is not None)
    assert reason in trigger.reason


def test_the_cooldown_never_holds_back_the_first_model():
    trigger = decide(None, None, _settings(), [], _retrained(0))

    assert trigger.retrain is True
    assert "no production model yet" in trigger.reason
