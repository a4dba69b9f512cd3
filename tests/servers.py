"""Start real servers (uvicorn apps, MLflow, ...) as child processes for tests."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from proyecto4.processes import running

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def uvicorn_app(factory: str, env: dict[str, str] | None = None, health: str = "/health") -> Iterator[str]:
    """Serves `module:factory` with uvicorn on a free port; yields its base URL."""
    port = free_port()
    # No access log, as the API is deployed (and a quieter test log).
    args = [str(BIN / "uvicorn"), factory, "--factory", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log"]
    url = f"http://127.0.0.1:{port}"
    with running(args, url + health, env):
        yield url


@contextlib.contextmanager
def mlflow_server(backend_store_uri: str, artifacts_dir: Path) -> Iterator[str]:
    """A real MLflow tracking server that proxies artifacts (as the chart runs it)."""
    port = free_port()
    args = [
        str(BIN / "mlflow"), "server",
        "--backend-store-uri", backend_store_uri,
        "--artifacts-destination", str(artifacts_dir),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]
    url = f"http://127.0.0.1:{port}"
    with running(args, url + "/health", timeout=180):
        yield url
