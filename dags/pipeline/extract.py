"""extract_data: incremental ingestion of the data source into raw_data.

Each run continues from the watermark (the newest date in the ingestion ledger of its
group), one request per day. Days are buffered and written in blocks; a block's days are
first deleted, then rewritten, in one transaction with their ledger rows, so running the
same window twice leaves the same rows and a failure never leaves half a day.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import orjson
import pandas as pd
from proyecto4_common.names import INGESTION_LEDGER_TABLE, RAW_TABLE
from sqlalchemy import Engine, bindparam, text
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from pipeline.db import as_date, make_engine, run_sql_file, table_columns, write_frame
from pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)

SOURCE_COLUMNS_SKIPPED = ("source_group", "source_date")
STRING_COLUMNS = frozenset({"carrier", "tailnum", "origin", "dest", "time_hour"})


class MalformedBatch(ValueError):
    """The source answered, but not with what its contract promises."""


@dataclass
class IngestReport:
    group: int
    first_date: str | None = None
    last_date: str | None = None
    days: int = 0
    rows: int = 0

    def as_dict(self) -> dict:
        return {
            "group": self.group,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "days": self.days,
            "rows": self.rows,
        }


def create_raw_tables(settings: PipelineSettings) -> None:
    # Lazy: pipeline.study imports Optuna, which the extraction itself never needs.
    from pipeline.study import create_storage_schema

    run_sql_file(make_engine(settings.data_db_url), "raw_tables.sql")
    create_storage_schema(settings)


def watermark(engine: Engine, group: int) -> date | None:
    with engine.connect() as conn:
        value = conn.execute(
            text(f"SELECT MAX(source_date) FROM {INGESTION_LEDGER_TABLE} WHERE source_group = :g"),
            {"g": group},
        ).scalar()
    if value is None:
        return None
    return as_date(value)


def plan_window(
    settings: PipelineSettings,
    last_ingested: date | None,
    source_range: tuple[date, date],
    start: date | None = None,
    until: date | None = None,
) -> list[date]:
    """The days this run asks for: from `start` (or the day after the watermark) up to
    `until` (or `days_per_run` days), clipped to what the source has."""
    first_available, last_available = source_range
    if start is None:
        start = last_ingested + timedelta(days=1) if last_ingested else settings.pipeline_start_date
    if until is None:
        until = start + timedelta(days=settings.pipeline_days_per_run - 1)
    start = max(start, first_available)
    until = min(until, last_available)
    return [start + timedelta(days=i) for i in range((until - start).days + 1)]


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500 or error.response.status_code == 429
    return isinstance(error, (httpx.TransportError,))


class SourceClient:
    """The data source's HTTP contract, with retries on what may pass by itself."""

    def __init__(self, settings: PipelineSettings):
        self.settings = settings
        self.http = httpx.Client(
            base_url=settings.data_source_url, timeout=settings.pipeline_request_timeout_s
        )
        self._get = retry(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(settings.pipeline_request_attempts),
            wait=wait_exponential(multiplier=settings.pipeline_backoff_s, max=30),
            reraise=True,
            before_sleep=lambda state: log.warning(
                "data source: %s, attempt %d of %d",
                state.outcome.exception(),
                state.attempt_number,
                settings.pipeline_request_attempts,
            ),
        )(self._get_once)

    def close(self) -> None:
        self.http.close()

    def _get_once(self, path: str, params: dict | None = None) -> dict:
        response = self.http.get(path, params=params)
        if 400 <= response.status_code < 500:
            raise ValueError(
                f"data source refused {path} {params or ''}: {response.status_code} {response.text[:300]}"
            )
        response.raise_for_status()
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise MalformedBatch(f"{path} {params or ''}: answer is not JSON") from exc

    def date_range(self) -> tuple[date, date]:
        meta = self._get("/metadata")
        try:
            return date.fromisoformat(meta["first_date"]), date.fromisoformat(meta["last_date"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedBatch(
                f"/metadata: no valid first_date/last_date in {meta!r:.200}"
            ) from exc

    def day(self, group: int, day: date, columns: list[str]) -> pd.DataFrame:
        payload = self._get("/data", {"group": group, "date": day.isoformat()})
        return parse_batch(payload, group, day, columns)


def parse_batch(payload: object, group: int, day: date, columns: list[str]) -> pd.DataFrame:
    """Checks one day's answer against the contract and returns it as raw_data rows."""
    where = f"group {group}, {day.isoformat()}"
    if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
        raise MalformedBatch(f"{where}: expected a JSON object with a 'rows' list")
    rows = payload["rows"]
    if payload.get("count") is not None and payload["count"] != len(rows):
        raise MalformedBatch(f"{where}: 'count' says {payload['count']} but {len(rows)} rows came")
    if not all(isinstance(r, dict) for r in rows):
        raise MalformedBatch(f"{where}: every row must be a JSON object")
    wanted = [c for c in columns if c not in SOURCE_COLUMNS_SKIPPED]
    frame = pd.DataFrame.from_records(rows, columns=None if rows else wanted)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise MalformedBatch(f"{where}: rows lack column(s) {', '.join(missing)}")
    frame = frame[wanted].copy()
    for column in wanted:
        _check_column(frame, column, where)
    frame.insert(0, "source_date", day.isoformat())
    frame.insert(0, "source_group", group)
    return frame


def _check_column(frame: pd.DataFrame, column: str, where: str) -> None:
    """Raises MalformedBatch when a column holds values of the wrong kind.

    When pandas inferred a text or numeric dtype for the whole column the answer is right
    and nothing is scanned; only mixed (object) columns are checked value by value.
    """
    values = frame[column]
    text_column = column in STRING_COLUMNS
    if values.dtype != object:
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if (text_column and pd.api.types.is_string_dtype(values)) or (not text_column and numeric):
            return
    if text_column:
        bad = values.map(lambda v: not (_missing(v) or isinstance(v, str)))
    else:
        bad = values.map(
            lambda v: not _missing(v) and (isinstance(v, bool) or not isinstance(v, (int, float)))
        )
    if bad.any():
        example = values[bad].iloc[0]
        example = example.item() if hasattr(example, "item") else example  # numpy scalar
        kind = "text" if text_column else "numbers"
        raise MalformedBatch(f"{where}: column {column} must hold {kind}, got {example!r}")
    if not text_column:
        frame[column] = pd.to_numeric(values)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _write_days(
    engine: Engine, group: int, batches: list[tuple[date, pd.DataFrame]], block_size: int
) -> None:
    days = [d.isoformat() for d, _ in batches]
    ingested_at = datetime.now(UTC).replace(tzinfo=None)
    frame = pd.concat([f for _, f in batches], ignore_index=True)
    delete_raw = text(
        f"DELETE FROM {RAW_TABLE} WHERE source_group = :g AND source_date IN :days"
    ).bindparams(bindparam("days", expanding=True))
    delete_ledger = text(
        f"DELETE FROM {INGESTION_LEDGER_TABLE} WHERE source_group = :g AND source_date IN :days"
    ).bindparams(bindparam("days", expanding=True))
    with engine.begin() as conn:
        conn.execute(delete_raw, {"g": group, "days": days})
        conn.execute(delete_ledger, {"g": group, "days": days})
        write_frame(conn, RAW_TABLE, frame, block_size)
        conn.execute(
            text(
                f"INSERT INTO {INGESTION_LEDGER_TABLE} (source_group, source_date, row_count, ingested_at)"
                " VALUES (:g, :d, :n, :t)"
            ),
            [{"g": group, "d": d.isoformat(), "n": len(f), "t": ingested_at} for d, f in batches],
        )


def ingest(
    settings: PipelineSettings, start: date | None = None, until: date | None = None
) -> IngestReport:
    """Pulls the planned days of the settings' group into raw_data."""
    engine = make_engine(settings.data_db_url)
    group = settings.pipeline_group
    columns = table_columns(engine, RAW_TABLE)
    client = SourceClient(settings)
    report = IngestReport(group=group)
    try:
        days = plan_window(settings, watermark(engine, group), client.date_range(), start, until)
        pending: list[tuple[date, pd.DataFrame]] = []
        pending_rows = 0
        try:
            for day in days:
                frame = client.day(group, day, columns)
                pending.append((day, frame))
                pending_rows += len(frame)
                if pending_rows >= settings.pipeline_block_size:
                    _flush(engine, group, pending, settings, report)
                    pending, pending_rows = [], 0
        finally:
            # Days fetched before a failure are whole and valid: keep them.
            if pending:
                _flush(engine, group, pending, settings, report)
    finally:
        client.close()
    log.info("ingested %d rows over %d days for group %d", report.rows, report.days, group)
    return report


def _flush(engine, group, pending, settings, report: IngestReport) -> None:
    _write_days(engine, group, pending, settings.pipeline_block_size)
    for day, frame in pending:
        iso = day.isoformat()
        report.first_date = report.first_date or iso
        report.last_date = iso
        report.days += 1
        report.rows += len(frame)
