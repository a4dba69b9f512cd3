"""When a run retrains: the pure decision over model_quality rows."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pipeline.retrain import LiveQuality, decide, live_quality
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
