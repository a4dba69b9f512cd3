"""A real inference API serving the trained model, logging to its own PostgreSQL database."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from proyecto4_common.names import INFERENCE_LOG_ROWS_BUFFERED
from proyecto4_common.tables import inference_log
from servers import uvicorn_app


@dataclass
class ServedApi:
    url: str
    data_db_url: str

    def logged_rows(self, timeout_s: float = 60) -> int:
        """Rows in inference_log once the API's background writer has nothing left to write."""
        deadline = time.monotonic() + timeout_s
        while self._buffered() > 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"inference_log writer still busy after {timeout_s} s")
            time.sleep(0.2)
        engine = sa.create_engine(self.data_db_url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(inference_log)).scalar()
        except sa.exc.ProgrammingError:  # the writer creates the table with its first rows
            return 0
        finally:
            engine.dispose()

    def _buffered(self) -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        for line in text.splitlines():
            if line.startswith(INFERENCE_LOG_ROWS_BUFFERED + " "):
                return float(line.split()[1])
        raise AssertionError(f"{INFERENCE_LOG_ROWS_BUFFERED} missing from /metrics")


@pytest.fixture
def served_api(trained_model, postgres_db) -> ServedApi:
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "DATA_DB_URL": postgres_db,
        # One model for the whole run: no alias polling.
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
    }
    with uvicorn_app("inference_api.app:create_app", env, health="/ready") as url:
        yield ServedApi(url=url, data_db_url=postgres_db)
