"""What `pipeline run` prints at the end: rows, splits, the model in production and the
latest promotion decision (the ledger's newest row: this run's, whether it promoted or not)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from proyecto4_common.names import (
    CLEAN_TABLE,
    MODEL_NAME,
    PRODUCTION_ALIAS,
    PROMOTION_LEDGER_TABLE,
    RAW_TABLE,
    RUN_METRICS,
)
from proyecto4_common.tables import promotion_ledger
from sqlalchemy import Connection, inspect, select, text


@dataclass
class PipelineSummary:
    raw_rows: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    production_version: str | None = None
    production_metrics: dict[str, float] = field(default_factory=dict)
    last_decision: str | None = None

    def render(self, state, took: timedelta) -> str:
        lines = [
            f"\nDAG run: {state} in {took.total_seconds():.0f} s",
            f"raw_data rows: {self.raw_rows:,}",
            "clean_data: "
            + (", ".join(f"{k} {v:,}" for k, v in sorted(self.splits.items())) or "empty"),
        ]
        if self.production_version:
            metrics = ", ".join(
                f"{k} {self.production_metrics.get(k, float('nan')):.4f}" for k in RUN_METRICS
            )
            lines.append(f"production: {MODEL_NAME} v{self.production_version} ({metrics})")
        else:
            lines.append(f"production: no version of {MODEL_NAME} has the alias yet")
        if self.last_decision:
            lines.append(f"last decision: {self.last_decision}")
        return "\n".join(lines)


def pipeline_summary(settings) -> PipelineSummary:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from pipeline.db import make_engine

    summary = PipelineSummary()
    engine = make_engine(settings.data_db_url)
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        if RAW_TABLE in tables:
            summary.raw_rows = conn.execute(text(f"SELECT COUNT(*) FROM {RAW_TABLE}")).scalar_one()
        if CLEAN_TABLE in tables:
            rows = conn.execute(
                text(f"SELECT dataset, COUNT(*) FROM {CLEAN_TABLE} GROUP BY dataset")
            )
            summary.splits = {name: count for name, count in rows}
        if PROMOTION_LEDGER_TABLE in tables:
            summary.last_decision = latest_decision(conn)
    engine.dispose()
    client = MlflowClient(settings.mlflow_tracking_uri)
    try:
        version = client.get_model_version_by_alias(MODEL_NAME, PRODUCTION_ALIAS)
    except MlflowException:
        return summary
    summary.production_version = str(version.version)
    summary.production_metrics = client.get_run(version.run_id).data.metrics
    return summary


def latest_decision(conn: Connection) -> str | None:
    """The newest row of the promotion ledger in words, e.g. "v4 kept out: <reason>"."""
    row = conn.execute(
        select(promotion_ledger).order_by(promotion_ledger.c.id.desc()).limit(1)
    ).one_or_none()
    if row is None:
        return None
    verdict = "promoted" if row.promoted else "kept out"
    return f"v{row.candidate_version} {verdict}: {row.reason}"
