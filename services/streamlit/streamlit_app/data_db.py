"""Reads of the data database: the inference log, the promotion ledger, live quality.

No Streamlit here. A database that cannot be reached becomes `DataDbUnavailable`; a table
that does not exist yet reads as empty (nothing has been served or promoted so far).
"""

from __future__ import annotations

import pandas as pd
from proyecto4_common.database import create_database_engine
from proyecto4_common.tables import inference_log, model_quality, promotion_ledger
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

LOG_COLUMNS = [
    "id",
    "created_at",
    "prediction",
    "probability",
    "model_name",
    "model_version",
    "latency_ms",
]


class DataDbUnavailable(Exception):
    """The data database cannot be reached or read."""


def recent_predictions(db_url: str, limit: int, timeout_s: float) -> pd.DataFrame:
    """The latest `limit` rows of inference_log, oldest first, without the request features."""
    columns = [inference_log.c[name] for name in LOG_COLUMNS]
    query = select(*columns).order_by(inference_log.c.id.desc()).limit(limit)
    frame = _read(db_url, timeout_s, inference_log.name, query, LOG_COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame.sort_values("id").reset_index(drop=True)


def promotion_decisions(db_url: str, timeout_s: float) -> pd.DataFrame:
    """Every promotion decision, newest first (a ledger of an older release lacks the
    trigger columns until the pipeline's next decision adds them: they read as empty)."""
    names = [c.name for c in promotion_ledger.columns]
    query = select(promotion_ledger).order_by(promotion_ledger.c.id.desc())
    return _read(db_url, timeout_s, promotion_ledger.name, query, names)


def live_quality(db_url: str, timeout_s: float) -> pd.DataFrame:
    """model_quality, oldest day first: live metrics per flight day and model version."""
    names = [c.name for c in model_quality.columns]
    query = select(model_quality).order_by(model_quality.c.day, model_quality.c.model_version)
    frame = _read(db_url, timeout_s, model_quality.name, query, names)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def _read(db_url: str, timeout_s: float, table: str, query, names: list[str]) -> pd.DataFrame:
    engine = _engine(db_url, timeout_s)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(table):
                return pd.DataFrame(columns=names)
            present = {c["name"] for c in inspect(conn).get_columns(table)}
            if missing := [n for n in names if n not in present]:
                query = query.with_only_columns(
                    *[c for c in query.selected_columns if c.name in present]
                )
                frame = pd.DataFrame(
                    conn.execute(query).all(), columns=[n for n in names if n in present]
                )
                return frame.assign(**dict.fromkeys(missing))[names]
            rows = conn.execute(query).all()
    except SQLAlchemyError as exc:
        raise DataDbUnavailable(str(exc.orig or exc)) from exc
    finally:
        engine.dispose()
    return pd.DataFrame(rows, columns=names)


def _engine(db_url: str, timeout_s: float) -> Engine:
    try:
        return create_database_engine(db_url, connect_timeout_s=timeout_s)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        raise DataDbUnavailable(str(exc)) from exc
