"""measure_live_quality: served predictions joined with the outcomes that arrived since.

Predictions that carried a flight key (inference_log.flight_*) are matched with the same
flight in raw_data once its day has been ingested; the label is the training label
(features.labels), so cancelled and diverted flights count for neither. Per flight day and
model version the step records count, AUROC with its 95 % interval (Hanley-McNeil),
accuracy, log loss, expected calibration error and the AUROC estimated from the
probabilities alone (CBPE, on probabilities calibrated as the version's spec says: what
the API's gauge shows before outcomes arrive) in model_quality, next to the version's
forward test AUROC and backtest band from training.

Days are recorded once their outcomes are in; the newest `quality_recompute_days` ingested
days are recomputed on every run, for predictions that come in after their day's outcomes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from proyecto4_common.estimation import auroc_interval, estimated_auroc
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.names import INGESTION_LEDGER_TABLE, RAW_TABLE
from proyecto4_common.tables import inference_log, model_quality, upgrade
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sqlalchemy import Engine, bindparam, delete, inspect, select, text

from pipeline.db import as_date, make_engine
from pipeline.features import labels
from pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)

CALIBRATION_BINS = 10
KEY = ["flight_date", "flight_carrier", "flight_number", "flight_origin"]


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Mean |observed rate - mean probability| over equal-width probability bins, weighted
    by the bins' share of predictions."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    error = 0.0
    for b in np.unique(which):
        inside = which == b
        error += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return float(error)


def metrics(y: np.ndarray, p: np.ndarray, predicted: np.ndarray) -> dict:
    return {
        "count": len(y),
        "delayed": int(y.sum()),
        "auroc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None,
        "accuracy": float(accuracy_score(y, predicted)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "calibration_error": expected_calibration_error(y, p),
    }


def days_to_measure(engine: Engine, group: int, recompute_days: int) -> list[date]:
    """Days with keyed predictions and ingested outcomes, not yet recorded or recent."""
    with engine.connect() as conn:
        predicted = {
            as_date(d)
            for (d,) in conn.execute(
                select(inference_log.c.flight_date)
                .where(inference_log.c.flight_date.is_not(None))
                .distinct()
            )
        }
        ingested = sorted(
            as_date(d)
            for (d,) in conn.execute(
                text(f"SELECT source_date FROM {INGESTION_LEDGER_TABLE} WHERE source_group = :g"),
                {"g": group},
            )
        )
        recorded = {as_date(d) for (d,) in conn.execute(select(model_quality.c.day).distinct())}
    recent = set(ingested[-recompute_days:]) if recompute_days else set()
    return sorted(d for d in predicted.intersection(ingested) if d not in recorded or d in recent)


def labelled_predictions(engine: Engine, group: int, days: list[date]) -> pd.DataFrame:
    """The keyed predictions of `days` that found their flight with a label in raw_data."""
    columns = [
        inference_log.c[c]
        for c in ("model_name", "model_version", "probability", "prediction", *KEY)
    ]
    query = select(*columns).where(inference_log.c.flight_date.in_(days))
    with engine.connect() as conn:
        served = pd.DataFrame(conn.execute(query).all(), columns=[c.name for c in columns])
        outcomes = pd.DataFrame(
            conn.execute(
                text(
                    f"SELECT source_date, carrier, flight, origin, arr_delay FROM {RAW_TABLE} "
                    "WHERE source_group = :g AND source_date IN :days"
                ).bindparams(bindparam("days", expanding=True)),
                {"g": group, "days": days},
            ).all(),
            columns=[*KEY, "arr_delay"],
        )
    outcomes["label"] = labels(outcomes["arr_delay"].astype("float64"))
    outcomes = outcomes.dropna(subset=["label"])
    for frame in (served, outcomes):
        frame["flight_date"] = frame["flight_date"].map(as_date)
        frame["flight_number"] = frame["flight_number"].astype("int64")
    return served.merge(outcomes[[*KEY, "label"]], on=KEY, how="inner", validate="many_to_one")


@dataclass(frozen=True)
class VersionFacts:
    """What training logged of a model version that live quality is shown against."""

    test_auroc: float | None = None
    backtest_auroc: float | None = None
    backtest_auroc_low: float | None = None  # the decay threshold, mean - k sd
    spec: FeatureSpec | None = None  # its calibration turns probabilities into estimates


def facts_from_registry(settings: PipelineSettings) -> Callable[[str, str], VersionFacts]:
    """Each version's logged facts (empty for a version MLflow lacks)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from proyecto4_common.names import BACKTEST_AUROC_MEAN, FEATURE_SPEC_FILE, TEST_AUROC

    from pipeline.retrain import Reference
    from pipeline.tracking import load_run_text

    client = MlflowClient(settings.mlflow_tracking_uri)
    cache: dict[tuple[str, str], VersionFacts] = {}

    def lookup(name: str, version: str) -> VersionFacts:
        if (name, version) not in cache:
            try:
                run_id = client.get_model_version(name, version).run_id
                logged = client.get_run(run_id).data.metrics
                cache[name, version] = VersionFacts(
                    logged.get(TEST_AUROC),
                    logged.get(BACKTEST_AUROC_MEAN),
                    Reference.of_run(logged).band_low(settings.quality_band_k),
                    FeatureSpec.from_json(load_run_text(client, run_id, FEATURE_SPEC_FILE)),
                )
            except (MlflowException, OSError):
                # A version MLflow lacks, or one logged without a spec: no reference.
                cache[name, version] = VersionFacts()
        return cache[name, version]

    return lookup


def with_uncertainty(row: dict, p: np.ndarray, facts: VersionFacts) -> dict:
    """The day's interval and estimate, and the version's reference, added to its metrics."""
    low = high = None
    if row["auroc"] is not None:
        low, high = auroc_interval(row["auroc"], row["delayed"], row["count"] - row["delayed"])
    calibrated = facts.spec.calibrated(p) if facts.spec else p
    return {
        **row,
        "auroc_low": low,
        "auroc_high": high,
        "estimated_auroc": estimated_auroc(calibrated),
        "test_auroc": facts.test_auroc,
        "backtest_auroc": facts.backtest_auroc,
        "backtest_auroc_low": facts.backtest_auroc_low,
    }


def measure_live_quality(
    settings: PipelineSettings, versions: Callable[[str, str], VersionFacts] | None = None
) -> dict:
    """Records model_quality rows for the days whose outcomes arrived; returns a summary."""
    engine = make_engine(settings.data_db_url)
    with engine.begin() as conn:
        upgrade(conn, model_quality)
        if not inspect(conn).has_table(inference_log.name):
            return {"days": [], "rows": 0}
        upgrade(conn, inference_log)
    days = days_to_measure(engine, settings.pipeline_group, settings.quality_recompute_days)
    if not days:
        return {"days": [], "rows": 0}
    joined = labelled_predictions(engine, settings.pipeline_group, days)
    versions = versions or facts_from_registry(settings)
    now = datetime.now(UTC)
    rows = []
    for (day, name, version), part in joined.groupby(
        ["flight_date", "model_name", "model_version"], sort=True
    ):
        y = part["label"].to_numpy(dtype="int64")
        p = part["probability"].to_numpy(dtype="float64")
        measured = metrics(y, p, part["prediction"].to_numpy())
        rows.append(
            {
                "day": day,
                "model_name": name,
                "model_version": version,
                **with_uncertainty(measured, p, versions(name, version)),
                "computed_at": now,
            }
        )
    with engine.begin() as conn:
        conn.execute(delete(model_quality).where(model_quality.c.day.in_(days)))
        if rows:
            conn.execute(model_quality.insert(), rows)
    log.info(
        "model_quality: %d rows over %d days (%s .. %s)", len(rows), len(days), days[0], days[-1]
    )
    return {"days": [d.isoformat() for d in days], "rows": len(rows)}
