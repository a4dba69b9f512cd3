"""Child processes of the local CLI: the servers of the platform, started and stopped."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

BIN = Path(sys.executable).parent


def ui_script() -> Path:
    import streamlit_app

    return Path(streamlit_app.__file__).resolve().parent / "app.py"


def server_command(name: str, host: str, port: int, settings) -> list[str]:
    """The command line that serves one component."""
    if name == "api":
        return [str(BIN / "uvicorn"), "inference_api.app:create_app", "--factory",
                "--host", host, "--port", str(port)]
    if name == "data-source":
        return [str(BIN / "uvicorn"), "data_source.app:create_app", "--factory",
                "--host", host, "--port", str(port)]
    if name == "ui":
        return [str(BIN / "streamlit"), "run", str(ui_script()), "--server.port", str(port),
                "--server.address", host, "--server.headless", "true",
                "--browser.gatherUsageStats", "false"]
    if name == "mlflow":
        settings.ensure_home()
        backend = os.environ.get("MLFLOW_BACKEND_STORE_URI") or (
            f"sqlite:///{settings.proyecto4_home / 'mlflow.db'}"
        )
        return [str(BIN / "mlflow"), "server", "--backend-store-uri", backend,
                "--artifacts-destination", str(settings.mlflow_artifacts_dir),
                "--host", host, "--port", str(port), "--workers", "1"]
    raise ValueError(f"unknown component {name!r}")


HEALTH_PATHS = {"api": "/health", "data-source": "/health", "ui": "/_stcore/health", "mlflow": "/health"}


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def background(name: str, port: int, settings, env: dict[str, str] | None = None,
               log_dir: Path | None = None, timeout: float = 120) -> Iterator[str]:
    """Runs a component until the block ends; yields its URL once it answers."""
    url = f"http://127.0.0.1:{port}"
    if answers(url + HEALTH_PATHS[name]):
        raise RuntimeError(f"port {port} already serves something: stop it or pick another port")
    log_dir = log_dir or settings.proyecto4_home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            server_command(name, "127.0.0.1", port, settings),
            env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while not answers(url + HEALTH_PATHS[name]):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start; see {log_path}")
                time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
