"""Input drift for the retraining decision: the newest ingested days' flights against the
production model's training reference histograms (its feature_spec.json).

For each of the newest `drift_days` ingested days, the flights of the trailing
`drift_window_days` ingested days ending there are encoded as the model encodes them and
compared feature by feature (PSI, proyecto4_common.drift, as the API's drift gauge);
the day's value is the largest PSI, calendar features left out. Rows go to input_drift,
recomputed on every run for the version in production.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
from proyecto4_common.drift import feature_bins, psi_by_feature
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.names import FEATURE_SPEC_FILE, INGESTION_LEDGER_TABLE, MODEL_NAME, RAW_TABLE
from proyecto4_common.tables import input_drift, upgrade
from sqlalchemy import Engine, and_, bindparam, delete, text

from pipeline.db import as_date
from pipeline.features import CALENDAR_FEATURES, encode, feature_frame
from pipeline.replay import REPLAY_COLUMNS
from pipeline.settings import PipelineSettings
from pipeline.spec import categories_of

log = logging.getLogger(__name__)


@dataclass
class DayDrift:
    day: date
    psi: float
    feature: str
    rows: int


def production_spec(version) -> FeatureSpec:
    """The feature spec a model version was trained with (its run's feature_spec.json)."""
    import mlflow

    text_ = mlflow.artifacts.load_text(f"runs:/{version.run_id}/{FEATURE_SPEC_FILE}")
    return FeatureSpec.from_json(text_)


def window_drift(spec: FeatureSpec, raw: pd.DataFrame) -> tuple[float, str]:
    """Largest PSI of a non-calendar feature of `raw`'s flights, and that feature."""
    bins = [b for b in feature_bins(spec) if b.name not in CALENDAR_FEATURES]
    matrix = encode(feature_frame(raw), categories_of(spec)).to_numpy(dtype="float64")
    scores = psi_by_feature(bins, matrix)
    feature = max(scores, key=scores.get)
    return scores[feature], feature


def _ingested_days(engine: Engine, group: int) -> list[date]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT source_date FROM {INGESTION_LEDGER_TABLE} WHERE source_group = :g"),
            {"g": group},
        ).all()
    return sorted(as_date(d) for (d,) in rows)


def _raw_rows(engine: Engine, group: int, days: list[date]) -> pd.DataFrame:
    columns = ", ".join(REPLAY_COLUMNS)
    query = text(
        f"SELECT source_date, {columns} FROM {RAW_TABLE} "
        "WHERE source_group = :g AND source_date IN :days"
    ).bindparams(bindparam("days", expanding=True))
    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(query, {"g": group, "days": days}).all(),
            columns=["source_date", *REPLAY_COLUMNS],
        )
    frame["source_date"] = frame["source_date"].map(as_date)
    return frame


def measure_input_drift(
    settings: PipelineSettings, engine: Engine, version: str, spec: FeatureSpec
) -> list[DayDrift]:
    """Drift of the newest `drift_days` ingested days against `version`'s reference,
    oldest first; written to input_drift."""
    ingested = _ingested_days(engine, settings.pipeline_group)
    if not ingested:
        return []
    span = settings.drift_days + settings.drift_window_days - 1
    raw = _raw_rows(engine, settings.pipeline_group, ingested[-span:])
    out = []
    for i in range(max(len(ingested) - settings.drift_days, 0), len(ingested)):
        window = ingested[max(i - settings.drift_window_days + 1, 0) : i + 1]
        rows = raw[raw["source_date"].isin(window)]
        if rows.empty:
            continue
        value, feature = window_drift(spec, rows)
        out.append(DayDrift(ingested[i], value, feature, len(rows)))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        upgrade(conn, input_drift)
        conn.execute(
            delete(input_drift).where(
                and_(
                    input_drift.c.model_version == version,
                    input_drift.c.day.in_([d.day for d in out]),
                )
            )
        )
        if out:
            conn.execute(
                input_drift.insert(),
                [
                    {
                        "day": d.day,
                        "model_name": MODEL_NAME,
                        "model_version": version,
                        "window_days": settings.drift_window_days,
                        "rows": d.rows,
                        "psi": d.psi,
                        "feature": d.feature,
                        "computed_at": now,
                    }
                    for d in out
                ],
            )
    return out
