"""Start real servers (uvicorn apps, MLflow, ...) as child processes for tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(
    args: list[str], health_url: str, env: dict[str, str] | None = None, timeout: float = 90
) -> Iterator[subprocess.Popen]:
    """Runs `args` until the block ends; waits until `health_url` answers 200 first.

    Output goes to a log file whose tail is shown if the server does not come up.
    """
    log = tempfile.NamedTemporaryFile(prefix="server-", suffix=".log", delete=False)
    process = subprocess.Popen(
        args, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, cwd=REPO
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited with {process.returncode}:\n{_tail(log.name)}")
            try:
                if httpx.get(health_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{health_url} not up after {timeout:.0f} s:\n{_tail(log.name)}")
            time.sleep(0.2)
        process.log_path = log.name  # type: ignore[attr-defined]
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _tail(path: str, lines: int = 40) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def uvicorn_app(factory: str, env: dict[str, str] | None = None, health: str = "/health") -> Iterator[str]:
    """Serves `module:factory` with uvicorn on a free port; yields its base URL."""
    port = free_port()
    args = [str(BIN / "uvicorn"), factory, "--factory", "--host", "127.0.0.1", "--port", str(port)]
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
