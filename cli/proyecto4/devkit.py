"""What the tests and the benchmarks share to run pieces of the platform on this machine:
uvicorn apps on free ports, throwaway PostgreSQL databases, samples of a /metrics page.

Both import it from the installed package (never through sys.path); the servers themselves
run through `proyecto4.processes.running`, as the CLI runs them.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Iterator, Sequence

import httpx
from proyecto4_common.database import UnsupportedDatabaseUrl, create_database_engine, database_url
from proyecto4_common.names import INFERENCE_LOG_ROWS_BUFFERED
from proyecto4_common.net import free_port
from proyecto4_common.settings import mlflow_client_env
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from proyecto4.processes import BIN, running


def db_answers(url: str) -> bool:
    """True when the database at `url` accepts a connection and a query within seconds."""
    with contextlib.suppress(UnsupportedDatabaseUrl):
        url = database_url(url)  # MySQL (MLflow's store) keeps SQLAlchemy's own driver choice
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except (SQLAlchemyError, OSError, ImportError):
        return False


@contextlib.contextmanager
def uvicorn_app(
    factory: str,
    env: dict[str, str] | None = None,
    health: str = "/health",
    timeout: float = 120,
    options: Sequence[str] = (),
) -> Iterator[str]:
    """Serves `module:factory` with uvicorn on a free port; yields its base URL once `health`
    answers (within `timeout` seconds). `options`: more uvicorn options (`--root-path /x`).
    MLflow's client fails fast in it, as in the images (MLFLOW_CLIENT_ENV)."""
    env = {**mlflow_client_env(os.environ), **(env or {})}
    port = free_port()
    # No access log, as the API is deployed (and a quieter log).
    args = [
        str(BIN / "uvicorn"),
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        *options,
    ]
    url = f"http://127.0.0.1:{port}"
    with running(args, url + health, env, timeout=timeout):
        yield url


@contextlib.contextmanager
def throwaway_database(admin_url: str, prefix: str = "t") -> Iterator[str]:
    """A PostgreSQL database of its own (created, then dropped with its connections)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_database_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def wait_until(check, timeout_s: float, what: str, interval_s: float = 0.1):
    """Polls `check` until it returns something true; AssertionError after the timeout."""
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)
    return result


def metric(base_url: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus /metrics page, 0 when absent."""
    page = httpx.get(f"{base_url}/metrics").text
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, page, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def log_drained(api_url: str, timeout_s: float = 30) -> None:
    """Waits until the API's inference_log buffer is empty. A request's rows are buffered
    before its answer leaves, so afterwards every answered request's rows are written (or
    counted dropped); counting written rows instead is fooled by earlier requests' rows."""
    wait_until(
        lambda: metric(api_url, INFERENCE_LOG_ROWS_BUFFERED) == 0,
        timeout_s,
        "an empty inference_log buffer",
    )
