"""Writes every served prediction to `inference_log`, off the request path.

Requests hand their rows to a bounded in-memory buffer; one background thread writes them
in batches. While the DB is down the rows wait and the thread retries; a request that finds
the buffer full has its rows dropped, counted and logged. Nothing is lost silently.

While the DB is up but slower than the requests, a request that finds the buffer full waits
(up to `max_wait_s`) for room instead: clients slow down to what the DB can take rather
than lose rows.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from proyecto4_common.database import create_database_engine
from proyecto4_common.tables import KEY_COLUMNS, inference_log, upgrade

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5
# How often a request waiting for room in a full buffer looks again.
ROOM_POLL_S = 0.002


# In the table's order, which is also the order of a compiled positional INSERT's parameters.
COLUMNS = (
    "created_at",
    "features",
    "prediction",
    "probability",
    "model_name",
    "model_version",
    "latency_ms",
    *KEY_COLUMNS,
)
NO_KEY = (None,) * len(KEY_COLUMNS)
# Binary COPY, rows formatted by psycopg's C code: several times faster than INSERT, and
# than COPY text both for this thread (which holds the GIL the API answers with) and for
# PostgreSQL, which parses no text.
COPY_SQL = f"COPY {inference_log.name} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
# The columns' types as the table has them, which binary COPY must send exactly.
TYPES_SQL = f"SELECT {', '.join(COLUMNS)} FROM {inference_log.name} LIMIT 0"


@dataclass(slots=True)
class _Batch:
    """The rows of one request: records are serialised to JSON by the writer, not the request."""

    records: Sequence
    predictions: list[int]
    probabilities: list[float]
    model_name: str
    model_version: str
    latency_ms: float
    keys: list | None = None  # one PredictionKey (or None) per record; None: no record has one
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __len__(self) -> int:
        return len(self.records)

    def _rows(self):
        keys = self.keys or [None] * len(self.records)
        return zip(self.records, self.predictions, self.probabilities, keys, strict=False)

    def as_tuples(self, created_at) -> list[tuple]:
        """Rows in COLUMNS order, `created_at` already in the driver's form."""
        return [
            (
                created_at,
                orjson.dumps(record).decode(),
                prediction,
                probability,
                self.model_name,
                self.model_version,
                self.latency_ms,
                *(key or NO_KEY),
            )
            for record, prediction, probability, key in self._rows()
        ]


class InferenceLogWriter:
    def __init__(
        self,
        url: str,
        *,
        capacity: int,
        batch_rows: int,
        flush_interval_s: float,
        retry_interval_s: float,
        max_wait_s: float,
        on_written,
        on_dropped,
        on_waited,
    ):
        # Fail fast while the DB is down: the writer retries on its own schedule. No
        # pre-ping: a dead pooled connection fails one write, which is retried anyway.
        self.engine = create_database_engine(url, connect_timeout_s=CONNECT_TIMEOUT_S)
        self.capacity = capacity
        self.batch_rows = batch_rows
        self.flush_interval_s = flush_interval_s
        self.retry_interval_s = retry_interval_s
        self.max_wait_s = max_wait_s
        self._on_written = on_written
        self._on_dropped = on_dropped
        self._on_waited = on_waited
        # PostgreSQL: the columns' type OIDs, read once per table check.
        self._copy_types: list[int] | None = None
        # Non-PostgreSQL DBs: the INSERT compiled once, and created_at's conversion.
        self._insert_sql: str | None = None
        self._created_at_to_db = None
        self._pending: deque[_Batch] = deque()
        self._retry: list[_Batch] = []  # batches of a failed write, written first
        self.buffered = 0  # rows in _pending + _retry
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inference-log", daemon=True)
        self._table_ready = False
        self._failing = False
        self._drain_timeout_s = 0.0
        self._unreported_drops = 0

    # -- request side ------------------------------------------------------------------
    async def submit(
        self,
        records: Sequence,
        predictions,
        probabilities,
        model_name: str,
        model_version: str,
        latency_ms: float,
        keys: list | None = None,
    ) -> None:
        """Buffers the rows of one request; waits for room while the DB is only slow."""
        batch = _Batch(
            records, predictions, probabilities, model_name, model_version, latency_ms, keys
        )
        if self._offer(batch):
            return
        started = time.monotonic()
        waited = 0.0
        # No wait while writes fail: the DB is down and serving goes on.
        while not self._failing and waited < self.max_wait_s:
            self._wake.set()
            await asyncio.sleep(ROOM_POLL_S)
            waited = time.monotonic() - started
            if self._offer(batch):
                self._on_waited(waited)
                return
        if waited:
            self._on_waited(waited)
        with self._lock:
            self._unreported_drops += len(batch)  # logged by the writer thread, not per request
        self._on_dropped(len(batch))

    def _offer(self, batch: _Batch) -> bool:
        n = len(batch)
        with self._lock:
            if self.buffered + n > self.capacity:
                return False
            self.buffered += n
            self._pending.append(batch)
        if self.buffered >= self.batch_rows:
            self._wake.set()
        return True

    # -- writer thread -----------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, drain_timeout_s: float) -> None:
        """Writes what it can within the timeout; what is left is counted as dropped."""
        self._drain_timeout_s = drain_timeout_s
        self._stop.set()
        self._wake.set()
        self._thread.join(drain_timeout_s + CONNECT_TIMEOUT_S + self.retry_interval_s)
        with self._lock:
            left = self.buffered
            self.buffered = 0
            self._pending.clear()
            self._retry = []
        if left:
            self._on_dropped(left)
            log.error("stopped with the DB unreachable: dropped %d inference_log rows", left)
        self.engine.dispose()

    def _take(self) -> list[_Batch]:
        with self._lock:
            batches, self._retry = self._retry, []
            rows = sum(map(len, batches))
            while self._pending and rows < self.batch_rows:
                batches.append(self._pending.popleft())
                rows += len(batches[-1])
        return batches

    def _write(self, batches: list[_Batch]) -> None:
        with self.engine.begin() as conn:
            if not self._table_ready:
                upgrade(conn, inference_log)
                self._copy_types = None
                self._table_ready = True
            if conn.dialect.name == "postgresql":
                cursor = conn.connection.driver_connection.cursor()
                with cursor:
                    if self._copy_types is None:
                        cursor.execute(TYPES_SQL)
                        self._copy_types = [column.type_code for column in cursor.description]
                    with cursor.copy(COPY_SQL) as copy:
                        copy.set_types(self._copy_types)
                        for batch in batches:
                            for row in batch.as_tuples(batch.created_at):
                                copy.write_row(row)
            else:
                # The driver's executemany on plain tuples: SQLAlchemy's per-row parameter
                # processing would cost several times the insert itself.
                if self._insert_sql is None:
                    insert = inference_log.insert().compile(
                        dialect=conn.dialect, column_keys=list(COLUMNS)
                    )
                    self._insert_sql = str(insert)
                    self._created_at_to_db = inference_log.c.created_at.type.bind_processor(
                        conn.dialect
                    ) or (lambda value: value)
                to_db = self._created_at_to_db
                rows = [
                    row for batch in batches for row in batch.as_tuples(to_db(batch.created_at))
                ]
                if not conn.dialect.positional:
                    rows = [dict(zip(COLUMNS, row, strict=False)) for row in rows]
                conn.exec_driver_sql(self._insert_sql, rows)

    def _flush(self) -> bool:
        """Writes batches until the buffer is empty (True) or a write fails (False)."""
        while batches := self._take():
            try:
                self._write(batches)
            except Exception as exc:  # noqa: BLE001 - any DB failure: keep the rows, retry
                with self._lock:
                    self._retry = batches
                self._table_ready = False
                if not self._failing:
                    self._failing = True
                    log.warning(
                        "inference_log write failed, %d rows buffered, retrying: %s",
                        self.buffered,
                        exc,
                    )
                return False
            if self._failing:
                self._failing = False
                log.info("inference_log writes work again")
            with self._lock:
                written = sum(map(len, batches))
                self.buffered -= written
            self._on_written(written)
        return True

    def _report_drops(self) -> None:
        with self._lock:
            dropped, self._unreported_drops = self._unreported_drops, 0
        if dropped:
            log.error(
                "inference_log buffer full (%d rows): dropped %d rows", self.capacity, dropped
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            self._report_drops()
            if not self._flush():
                self._stop.wait(self.retry_interval_s)
        deadline = time.monotonic() + self._drain_timeout_s
        while not self._flush() and time.monotonic() < deadline:
            time.sleep(self.retry_interval_s)
        self._report_drops()
