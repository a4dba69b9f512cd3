"""Child processes of the local CLI: the servers of the platform, started and stopped."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from proyecto4_common.settings import mlflow_client_env

BIN = Path(sys.executable).parent


def ui_script() -> Path:
    import streamlit_app

    return Path(streamlit_app.__file__).resolve().parent / "app.py"


def server_command(name: str, host: str, port: int, settings) -> list[str]:
    """The command line that serves one component."""
    if name == "api":
        return [
            str(BIN / "uvicorn"),
            "inference_api.app:create_app",
            "--factory",
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
        ]
    if name == "data-source":
        return [
            str(BIN / "uvicorn"),
            "data_source.app:create_app",
            "--factory",
            "--host",
            host,
            "--port",
            str(port),
        ]
    if name == "ui":
        return [
            str(BIN / "streamlit"),
            "run",
            str(ui_script()),
            "--server.port",
            str(port),
            "--server.address",
            host,
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--client.toolbarMode",
            "viewer",
        ]
    if name == "mlflow":
        settings.ensure_home()
        backend = os.environ.get("MLFLOW_BACKEND_STORE_URI") or (
            f"sqlite:///{settings.proyecto4_home / 'mlflow.db'}"
        )
        # Basic-auth as in the cluster: the process needs mlflow_auth(settings).server_env.
        return [
            str(BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            backend,
            "--artifacts-destination",
            str(settings.mlflow_artifacts_dir),
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            "1",
            "--app-name",
            "basic-auth",
        ]
    raise ValueError(f"unknown component {name!r}")


def mlflow_auth(settings):
    """The local MLflow server's basic-auth (configuration, users, credentials generated into
    PROYECTO4_HOME on first use): a proyecto4_mlflow.auth.LocalAuth."""
    from proyecto4_mlflow.auth import prepare_local

    return prepare_local(settings.proyecto4_home)


def server_env(name: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """What a component's process gets on top of this process's environment: `env`, and for
    the MLflow clients (API, UI) the MLFLOW_CLIENT_ENV defaults their images set."""
    defaults = mlflow_client_env(os.environ) if name in ("api", "ui") else {}
    return {**defaults, **(env or {})}


HEALTH_PATHS = {
    "api": "/health",
    "data-source": "/health",
    "ui": "/_stcore/health",
    "mlflow": "/health",
}


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def running(
    args: list[str],
    health_url: str,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    timeout: float = 120,
) -> Iterator[subprocess.Popen]:
    """Runs `args` until the block ends; yields the process once `health_url` answers 200.

    Output goes to `log_path` (a temporary file by default), whose tail is in the error
    when the process exits or does not come up in time.
    """
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix="proyecto4-", suffix=".log")[1])
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            while not answers(health_url):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{args[0]} exited with {process.returncode}:\n{_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{health_url} not up after {timeout:.0f} s:\n{_tail(log_path)}"
                    )
                time.sleep(0.3)
            process.log_path = log_path  # type: ignore[attr-defined]
            yield process
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def background(
    name: str, port: int, settings, env: dict[str, str] | None = None, timeout: float = 120
) -> Iterator[str]:
    """Runs a component until the block ends; yields its URL once it answers.
    Its output goes to PROYECTO4_HOME/logs/<name>.log."""
    url = f"http://127.0.0.1:{port}"
    if answers(url + HEALTH_PATHS[name]):
        raise RuntimeError(f"port {port} already serves something: stop it or pick another port")
    log_dir = settings.proyecto4_home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    command = server_command(name, "127.0.0.1", port, settings)
    try:
        with running(
            command,
            url + HEALTH_PATHS[name],
            server_env(name, env),
            log_dir / f"{name}.log",
            timeout,
        ):
            yield url
    except RuntimeError as error:
        raise RuntimeError(
            f"{name} did not start ({error}); see {log_dir / f'{name}.log'}"
        ) from None
