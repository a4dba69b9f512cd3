"""SQLAlchemy Core definitions of the tables written by the API and the promotion step.

raw_data and clean_data are owned by the pipeline (SQL files and a frame write); these two
are read by several components (API, UI, plugin, tests), so they are defined once here.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from proyecto4_common.names import INFERENCE_LOG_TABLE, PROMOTION_LEDGER_TABLE

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
)

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
)

