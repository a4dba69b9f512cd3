"""decide_retraining: does this run tune new models, and why?

With `PIPELINE_RETRAIN_POLICY=always` (the default) every run retrains, as the pipeline always did.
With `on_decay` a run retrains only when there is no production model yet or when the
production model's live AUROC (model_quality, count-weighted over its newest
`quality_window_days` recorded days, at least `quality_min_count` labelled predictions)
fell below its test AUROC by more than `quality_auroc_margin`. The reason goes to the
promotion ledger with the decision the retraining leads to.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import pandas as pd
from proyecto4_common.tables import model_quality, upgrade
from sqlalchemy import select

from pipeline.db import make_engine
from pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)


@dataclass
class LiveQuality:
    """The production model's live quality over the window (what the ledger records)."""

    version: str
    auroc: float | None
    count: int
    test_auroc: float | None
    days: int


# Kinds of retraining trigger (promotion_ledger.trigger_kind, a metric label in the API).
ALWAYS, NO_PRODUCTION, QUALITY_DECAYED = "always", "no_production", "quality_decayed"


@dataclass
class Trigger:
    retrain: bool
    reason: str
    live: LiveQuality | None = None
    kind: str | None = None  # set when it retrains

    def as_dict(self) -> dict:
        return {
            "retrain": self.retrain,
            "reason": self.reason,
            "kind": self.kind,
            "live": asdict(self.live) if self.live else None,
        }


def live_quality(rows: pd.DataFrame, version: str, window_days: int) -> LiveQuality | None:
    """Count-weighted live AUROC of `version` over its newest `window_days` days."""
    mine = rows[(rows["model_version"] == version) & rows["auroc"].notna()]
    if mine.empty:
        return None
    recent = mine.sort_values("day").tail(window_days)
    count = int(recent["count"].sum())
    auroc = float((recent["auroc"] * recent["count"]).sum() / count)
    test = recent["test_auroc"].dropna()
    return LiveQuality(
        version, auroc, count, float(test.iloc[-1]) if len(test) else None, len(recent)
    )


def decide(
    live: LiveQuality | None, production_version: str | None, settings: PipelineSettings
) -> Trigger:
    """Pure decision from the production model's live quality."""
    if settings.retrain_policy == "always":
        return Trigger(True, "every run retrains (PIPELINE_RETRAIN_POLICY=always)", live, ALWAYS)
    if production_version is None:
        return Trigger(True, "no production model yet", live, NO_PRODUCTION)
    if live is None or live.auroc is None:
        return Trigger(False, f"no live quality of v{production_version} yet", live)
    if live.count < settings.quality_min_count:
        return Trigger(
            False,
            f"v{live.version}: {live.count} labelled predictions, fewer than "
            f"{settings.quality_min_count}",
            live,
        )
    if live.test_auroc is None:
        return Trigger(False, f"v{live.version}: no test AUROC to compare with", live)
    floor = live.test_auroc - settings.quality_auroc_margin
    shown = (
        f"v{live.version} live AUROC {live.auroc:.4f} over {live.days} days "
        f"({live.count} predictions), test AUROC {live.test_auroc:.4f} - margin "
        f"{settings.quality_auroc_margin:.4f} = {floor:.4f}"
    )
    if live.auroc < floor:
        return Trigger(True, f"quality decayed: {shown}", live, QUALITY_DECAYED)
    return Trigger(False, f"quality holds: {shown}", live)


def decide_retraining(settings: PipelineSettings) -> Trigger:
    from pipeline.tracking import production_version, use_tracking

    production = production_version(use_tracking(settings))
    version = str(production.version) if production else None
    engine = make_engine(settings.data_db_url)
    with engine.begin() as conn:
        upgrade(conn, model_quality)
        rows = pd.DataFrame(
            conn.execute(select(model_quality)).mappings().all(),
            columns=[c.name for c in model_quality.columns],
        )
    live = live_quality(rows, version, settings.quality_window_days) if version else None
    trigger = decide(live, version, settings)
    log.info("retraining: %s (%s)", trigger.retrain, trigger.reason)
    return trigger
