"""Helpers of the inference API tests: start the API, read its metrics, own databases."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from proyecto4.devkit import log_drained, metric, uvicorn_app, wait_until  # noqa: F401 - the tests' helpers
from proyecto4.devkit import throwaway_database as database  # noqa: F401
from proyecto4_common.net import free_port

FACTORY = "inference_api.app:create_app"
# The admin token every test API starts with, unless a test replaces it.
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


ADMIN = bearer(ADMIN_TOKEN)


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
def running_api(env: dict[str, str], *options: str) -> Iterator[str]:
    """The API as a uvicorn process (with more uvicorn `options`); yields its base URL once
    /ready answers 200."""
    with uvicorn_app(FACTORY, env, health="/ready", options=options) as url:
        yield url


def api_app(trained_model, db_url: str, **settings):
    """The API as an app object in this process (create_app with the settings of api_env),
    for tests that add to it before it starts or call it through TestClient."""
    from inference_api.app import create_app
    from inference_api.settings import ApiSettings

    env = {k.lower(): v for k, v in api_env(trained_model, db_url, **settings).items()}
    return create_app(ApiSettings(**{k.removeprefix("inference_api_"): v for k, v in env.items()}))


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
            name,
            source=source.source,
            run_id=source.run_id,
            model_id=source.model_id or source.source.rsplit("/", 1)[-1],
        )
    client.set_registered_model_alias(name, "production", alias_on)
    try:
        yield name
    finally:
        client.delete_registered_model(name)


def log_rows(db_url: str) -> int:
    """Rows in inference_log; 0 before the API first created the table."""
    engine = sa.create_engine(db_url)
    try:
        if not sa.inspect(engine).has_table("inference_log"):
            return 0
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
