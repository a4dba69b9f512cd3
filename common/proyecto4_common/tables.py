"""SQLAlchemy Core definitions of the tables written by the API and the pipeline steps.

raw_data and clean_data are owned by the pipeline (SQL files and a frame write); these two
are read by several components (API, UI, plugin, tests), so they are defined once here.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
)

from proyecto4_common.names import (
    INFERENCE_LOG_TABLE,
    INPUT_DRIFT_TABLE,
    MODEL_QUALITY_TABLE,
    PROMOTION_LEDGER_TABLE,
)

metadata = MetaData()

inference_log = Table(
    INFERENCE_LOG_TABLE,
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    # The request record as received (JSON text, so SQLite and PostgreSQL read it alike).
    Column("features", Text, nullable=False),
    Column("prediction", Integer, nullable=False),
    Column("probability", Float, nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(50), nullable=False),
    Column("latency_ms", Float, nullable=False),
    # The prediction's key (prediction_key.py), null when the request sent none. Added after
    # the first release: `upgrade` adds them to tables created before.
    Column("request_id", String(128), nullable=True),
    Column("flight_date", Date, nullable=True, index=True),
    Column("flight_carrier", String(2), nullable=True),
    Column("flight_number", Integer, nullable=True),
    Column("flight_origin", String(3), nullable=True),
)
# In prediction_key.PredictionKey's order.
KEY_COLUMNS = ("request_id", "flight_date", "flight_carrier", "flight_number", "flight_origin")

promotion_ledger = Table(
    PROMOTION_LEDGER_TABLE,
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("candidate_version", String(50), nullable=False),
    Column("previous_version", String(50), nullable=True),
    Column("metric", String(100), nullable=False),
    Column("candidate_value", Float, nullable=False),
    Column("previous_value", Float, nullable=True),
    Column("promoted", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    # Why the run retrained (pipeline/retrain.py), and the live quality of the production
    # model the candidate was measured against. Added after the first release (`upgrade`).
    Column("trigger", Text, nullable=True),
    Column("trigger_kind", String(30), nullable=True),  # retrain.py: always, quality_decayed, ...
    Column("previous_live_auroc", Float, nullable=True),
    Column("previous_live_count", Integer, nullable=True),
    # The paired comparison on the rows neither model trained on (champion.compare):
    # candidate minus production on the metric, its 95 % bootstrap interval, and the rows.
    Column("difference", Float, nullable=True),
    Column("difference_low", Float, nullable=True),
    Column("difference_high", Float, nullable=True),
    Column("comparison_rows", Integer, nullable=True),
)


model_quality = Table(
    MODEL_QUALITY_TABLE,
    metadata,
    # The flights' day (whose outcomes arrived) and the version that served the predictions.
    Column("day", Date, primary_key=True),
    Column("model_name", String(200), primary_key=True),
    Column("model_version", String(50), primary_key=True),
    Column("count", Integer, nullable=False),  # predictions with a label
    Column("delayed", Integer, nullable=False),  # of which the flight was delayed
    # Null when a day's labels hold one class only (AUROC is undefined then).
    Column("auroc", Float, nullable=True),
    Column("accuracy", Float, nullable=False),
    Column("log_loss", Float, nullable=False),
    Column("calibration_error", Float, nullable=False),  # expected calibration error
    # The version's forward test AUROC at training.
    Column("test_auroc", Float, nullable=True),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    # Added after the first release (`upgrade`): the 95 % interval of `auroc`
    # (Hanley-McNeil, from count and delayed); the AUROC estimated from the day's
    # probabilities alone (CBPE, calibrated as the version's spec says); the version's
    # backtest mean and the lower edge of its band (mean - k sd), the decay threshold.
    Column("auroc_low", Float, nullable=True),
    Column("auroc_high", Float, nullable=True),
    Column("estimated_auroc", Float, nullable=True),
    Column("backtest_auroc", Float, nullable=True),
    Column("backtest_auroc_low", Float, nullable=True),
)

input_drift = Table(
    INPUT_DRIFT_TABLE,
    metadata,
    # The newest ingested day of the trailing window, and the version whose training
    # reference (feature_spec.json) the window was compared with.
    Column("day", Date, primary_key=True),
    Column("model_name", String(200), primary_key=True),
    Column("model_version", String(50), primary_key=True),
    Column("window_days", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("psi", Float, nullable=False),  # the largest PSI of a feature
    Column("feature", String(100), nullable=False),  # the feature that has it
    Column("computed_at", DateTime(timezone=True), nullable=False),
)


def upgrade(conn: Connection, table: Table) -> None:
    """Creates `table`, or adds the nullable columns (and their indexes) it lacks.

    Tables are created on first use, so a table made by an older release stays as it was;
    new columns are always nullable, which lets this ALTER on SQLite and PostgreSQL alike.
    """
    table.create(conn, checkfirst=True)
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    missing = [c for c in table.columns if c.name not in present]
    for column in missing:
        kind = column.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
    for index in table.indexes:
        if any(c in missing for c in index.columns):
            index.create(conn, checkfirst=True)
