"""decide_retraining: does this run tune new models, and why?

With `PIPELINE_RETRAIN_POLICY=always` (the default) every run retrains, as the pipeline always did.
With `on_decay` a run retrains only when there is no production model yet, when the
production model's quality decayed, or when input drift stayed high. Both thresholds come
from a reference, not from a fixed number:

- quality decayed: the upper end of the 95 % interval of production's live AUROC
  (model_quality, pooled over its newest `quality_window_days` recorded days, at least
  `quality_min_count` labelled predictions) is below its backtest band, the mean of its
  weekly backtest AUROCs minus `quality_band_k` standard deviations (pipeline/evaluation.py);
- drift stayed high: input drift against its training reference (pipeline/drift.py) above
  the reference's own spread, mean + `drift_band_k` standard deviations of the same measure
  over windows of its training days, on each of the newest `drift_days` ingested days.

Live quality is asked first: it is what drift only suggests. Neither retrains within `retrain_cooldown_days` ingested days of the
data the last retraining used: a candidate kept out leaves production as decayed as it
was, and each run would retrain again. The reason goes to the promotion ledger with the
decision the retraining leads to.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date

import pandas as pd
from proyecto4_common.estimation import auroc_interval
from proyecto4_common.names import (
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    REFERENCE_PSI_MEAN,
    REFERENCE_PSI_SD,
)
from proyecto4_common.tables import model_quality, upgrade
from sqlalchemy import select

from pipeline.db import make_engine
from pipeline.drift import DayDrift
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
    delayed: int = 0
    auroc_low: float | None = None  # the 95 % interval of `auroc`
    auroc_high: float | None = None


@dataclass(frozen=True)
class Reference:
    """What production's training measured of itself: its backtest's weekly AUROC and the
    input drift of windows of its training days (mean and standard deviation of each; None
    for a model trained before they were logged)."""

    backtest_mean: float | None = None
    backtest_sd: float | None = None
    drift_mean: float | None = None
    drift_sd: float | None = None

    @classmethod
    def of_run(cls, metrics: dict[str, float]) -> Reference:
        return cls(
            metrics.get(BACKTEST_AUROC_MEAN),
            metrics.get(BACKTEST_AUROC_SD),
            metrics.get(REFERENCE_PSI_MEAN),
            metrics.get(REFERENCE_PSI_SD),
        )

    def band_low(self, k: float) -> float | None:
        """The decay threshold: the backtest mean minus k standard deviations."""
        if self.backtest_mean is None or self.backtest_sd is None:
            return None
        return self.backtest_mean - k * self.backtest_sd

    def drift_threshold(self, k: float) -> float | None:
        if self.drift_mean is None or self.drift_sd is None:
            return None
        return self.drift_mean + k * self.drift_sd


# Kinds of retraining trigger (promotion_ledger.trigger_kind, a metric label in the API).
ALWAYS, NO_PRODUCTION, QUALITY_DECAYED = "always", "no_production", "quality_decayed"
DRIFT_HIGH = "drift_high"


@dataclass
class Trigger:
    retrain: bool
    reason: str
    live: LiveQuality | None = None
    kind: str | None = None  # set when it retrains
    drift: list[DayDrift] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "retrain": self.retrain,
            "reason": self.reason,
            "kind": self.kind,
            "live": asdict(self.live) if self.live else None,
            "drift": [{**asdict(d), "day": d.day.isoformat()} for d in self.drift],
        }


def live_quality(rows: pd.DataFrame, version: str, window_days: int) -> LiveQuality | None:
    """Count-weighted live AUROC of `version` over its newest `window_days` days, with the
    Hanley-McNeil interval of the window's pooled predictions."""
    mine = rows[(rows["model_version"] == version) & rows["auroc"].notna()]
    if mine.empty:
        return None
    recent = mine.sort_values("day").tail(window_days)
    count = int(recent["count"].sum())
    delayed = int(recent["delayed"].sum())
    auroc = float((recent["auroc"] * recent["count"]).sum() / count)
    low, high = auroc_interval(auroc, delayed, count - delayed)
    test = recent["test_auroc"].dropna()
    return LiveQuality(
        version,
        auroc,
        count,
        float(test.iloc[-1]) if len(test) else None,
        len(recent),
        delayed,
        low,
        high,
    )


def drift_verdict(
    drift: list[DayDrift], threshold: float | None, settings: PipelineSettings
) -> tuple[bool, str]:
    """Did drift stay above production's threshold on each of the newest `drift_days` days?"""
    if not settings.drift_trigger:
        return False, "drift trigger off"
    if threshold is None:
        return False, "no drift reference logged with production: drift trigger off for it"
    if not drift:
        return False, "no drift measured"
    newest_days = drift[-settings.drift_days :]
    above = sum(d.psi > threshold for d in newest_days)
    high = len(drift) >= settings.drift_days and above == len(newest_days)
    newest = drift[-1]
    shown = (
        f"input drift PSI {newest.psi:.2f} ({newest.feature}, {settings.drift_window_days}-day "
        f"window to {newest.day}), threshold {threshold:.2f} (training windows' mean + "
        f"{settings.drift_band_k:g} sd), above it on {above} of the newest "
        f"{settings.drift_days} days"
    )
    return high, shown


@dataclass
class LastRetrain:
    """The newest day of data the last retraining used, and the newest day ingested since."""

    data_until: date
    newest_ingested: date

    @property
    def days(self) -> int:
        return (self.newest_ingested - self.data_until).days


def decide(
    live: LiveQuality | None,
    production_version: str | None,
    settings: PipelineSettings,
    drift: list[DayDrift] | None = None,
    last_retrain: LastRetrain | None = None,
    reference: Reference | None = None,
) -> Trigger:
    """Pure decision from the production model's live quality against its reference, input
    drift and the last retraining."""
    reference = reference or Reference()
    drift = drift or []
    if settings.retrain_policy == "always":
        return Trigger(
            True, "every run retrains (PIPELINE_RETRAIN_POLICY=always)", live, ALWAYS, drift
        )
    if production_version is None:
        return Trigger(True, "no production model yet", live, NO_PRODUCTION, drift)
    drifted, drift_shown = drift_verdict(
        drift, reference.drift_threshold(settings.drift_band_k), settings
    )
    decayed, quality_shown = _quality_verdict(
        live, production_version, reference.band_low(settings.quality_band_k), settings
    )
    cooldown = settings.retrain_cooldown_days
    if (decayed or drifted) and last_retrain and last_retrain.days < cooldown:
        return Trigger(
            False,
            f"cooling down: the last retraining used data until {last_retrain.data_until}, "
            f"{last_retrain.days} of {cooldown} days before another; {quality_shown}; "
            f"{drift_shown}",
            live,
            None,
            drift,
        )
    if decayed:
        return Trigger(
            True, f"quality decayed: {quality_shown}; {drift_shown}", live, QUALITY_DECAYED, drift
        )
    if drifted:
        return Trigger(
            True, f"drift stayed high: {drift_shown}; {quality_shown}", live, DRIFT_HIGH, drift
        )
    return Trigger(False, f"{quality_shown}; {drift_shown}", live, None, drift)


def _quality_verdict(
    live: LiveQuality | None,
    production_version: str,
    band_low: float | None,
    settings: PipelineSettings,
) -> tuple[bool, str]:
    if live is None or live.auroc is None:
        return False, f"no live quality of v{production_version} yet"
    if live.count < settings.quality_min_count:
        return False, (
            f"v{live.version}: {live.count} labelled predictions, fewer than "
            f"{settings.quality_min_count}"
        )
    if band_low is None:
        return False, f"v{live.version}: no backtest band logged at its training to judge by"
    shown = (
        f"v{live.version} live AUROC {live.auroc:.4f} over {live.days} days "
        f"({live.count} predictions), 95 % interval [{live.auroc_low:.4f}, "
        f"{live.auroc_high:.4f}]; backtest band from {band_low:.4f} (mean - "
        f"{settings.quality_band_k:g} sd)"
    )
    if live.auroc_high < band_low:
        return True, shown
    return False, f"quality holds: {shown}"


def decide_retraining(settings: PipelineSettings) -> Trigger:
    from pipeline.tracking import production_version, use_tracking

    client = use_tracking(settings)
    production = production_version(client)
    version = str(production.version) if production else None
    reference = (
        Reference.of_run(client.get_run(production.run_id).data.metrics) if production else None
    )
    engine = make_engine(settings.data_db_url)
    with engine.begin() as conn:
        upgrade(conn, model_quality)
        rows = pd.DataFrame(
            conn.execute(select(model_quality)).mappings().all(),
            columns=[c.name for c in model_quality.columns],
        )
    live = live_quality(rows, version, settings.quality_window_days) if version else None
    drift, last = [], None
    if production is not None and settings.retrain_policy == "on_decay":
        from pipeline.drift import measure_input_drift, production_spec

        spec = production_spec(production)
        drift = measure_input_drift(settings, engine, version, spec)
        last = last_retrain(client, settings, engine)
    trigger = decide(live, version, settings, drift, last, reference)
    log.info("retraining: %s (%s)", trigger.retrain, trigger.reason)
    return trigger


def last_retrain(client, settings: PipelineSettings, engine) -> LastRetrain | None:
    """The `data_until` of the newest training run (kept out or promoted) and the newest
    ingested day; None before any run logged one."""
    from pipeline.db import as_date
    from pipeline.extract import watermark

    experiment = client.get_experiment_by_name(settings.mlflow_experiment)
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string="params.data_until != ''",
        order_by=["attribute.start_time DESC"],
        max_results=1,
    )
    newest = watermark(engine, settings.pipeline_group)
    if not runs or newest is None:
        return None
    return LastRetrain(as_date(runs[0].data.params["data_until"]), newest)
