"""Helpers of the inference API tests: start the API, read its metrics, own databases."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import sqlalchemy as sa
from servers import free_port, uvicorn_app

FACTORY = "inference_api.app:create_app"
# The admin token every test API starts with, unless a test replaces it.
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


ADMIN = bearer(ADMIN_TOKEN)


def wait_until(check, timeout_s: float, what: str, interval_s: float = 0.1):
    """Polls `check` until it returns something true; the test fails after the timeout."""
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)
    return result


def metric(base_url: str, name: str, **labels: str) -> float:
    """One sample of the API's /metrics, 0 when absent."""
    text = httpx.get(f"{base_url}/metrics").text
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def api_env(trained_model, db_url: str, **settings) -> dict[str, str]:
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "DATA_DB_URL": db_url,
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
        "INFERENCE_API_LOG_FLUSH_INTERVAL_S": "0.1",
        "INFERENCE_API_LOG_RETRY_INTERVAL_S": "0.2",
        "INFERENCE_API_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    env.update({f"INFERENCE_API_{k.upper()}": str(v) for k, v in settings.items()})
    return env


@contextlib.contextmanager
def running_api(env: dict[str, str]) -> Iterator[str]:
    """The API as a uvicorn process; yields its base URL once /ready answers 200."""
    with uvicorn_app(FACTORY, env, health="/ready") as url:
        yield url


@contextlib.contextmanager
def versions_of(trained_model, count: int, alias_on: str) -> Iterator[str]:
    """A registered model of its own holding `count` versions of the pipeline's model, the
    production alias on `alias_on`, so that changing it leaves `flight-delay` alone."""
    from mlflow import MlflowClient

    client = MlflowClient(trained_model.tracking_uri)
    source = client.get_model_version("flight-delay", trained_model.version)
    name = f"copy-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    for _ in range(count):
        client.create_model_version(
            name, source=source.source, run_id=source.run_id,
            model_id=source.model_id or source.source.rsplit("/", 1)[-1],
        )
    client.set_registered_model_alias(name, "production", alias_on)
    try:
        yield name
    finally:
        client.delete_registered_model(name)


@contextlib.contextmanager
def database(admin_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own (created, then dropped with its connections)."""
    name = f"api_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def log_rows(db_url: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM inference_log")).scalar_one()
    finally:
        engine.dispose()


class TcpProxy:
    """Forwards a local port to `target`; `cut()` makes the target unreachable through it."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._sockets: list[socket.socket] = []
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while self._open:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        self._open = False
        for s in [self._server, *self._sockets]:
            # shutdown, not just close: a thread blocked in accept() or recv() keeps it open.
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
