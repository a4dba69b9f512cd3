"""Real servers for tests and benchmarks: the machine's databases, and uvicorn apps,
MLflow, ... started as child processes."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

# db_answers and uvicorn_app are the benchmarks' too: they live in the installed package.
from proyecto4.devkit import db_answers, uvicorn_app  # noqa: F401 - re-exported to the tests
from proyecto4.processes import running
from proyecto4_common.net import free_port

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql")


@contextlib.contextmanager
def mlflow_server(
    backend_store_uri: str, artifacts_dir: Path | str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A real MLflow tracking server that proxies artifacts (as the chart runs it); the
    artifacts go to a folder or an s3:// destination (env: its endpoint and keys)."""
    port = free_port()
    args = [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        backend_store_uri,
        "--artifacts-destination",
        str(artifacts_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    url = f"http://127.0.0.1:{port}"
    with running(args, url + "/health", env, timeout=180):
        yield url


def send_json(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    """Answers the request a stdlib http.server handler is serving with `body` as JSON (the
    small stand-in servers of the tests: a Kubernetes API, an Airflow API)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


# Keys moto's S3 server accepts (any do): tests give them to every S3 client they start.
MOTO_KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server (in memory) on a free port; yields its endpoint URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    with running(args, url + "/moto-api/", MOTO_KEYS):
        yield url


def airflow_env(home: Path, dags_folder: Path, passwords: dict[str, str]) -> dict[str, str]:
    """Environment of a local Airflow (SQLite under `home`) whose simple auth manager knows
    the given users, all admins."""
    import json

    (home / "passwords.json").write_text(json.dumps(passwords))
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:admin" for u in passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
    }


@contextlib.contextmanager
def airflow_api_server(env: dict[str, str]) -> Iterator[str]:
    """Airflow 3's real API server (REST API and UI) on a migrated SQLite metadata DB."""
    import subprocess

    subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(
        [str(BIN / "airflow"), "api-server", "--port", str(port)],
        url + "/api/v2/monitor/health",
        env,
        timeout=180,
    ):
        yield url


@contextlib.contextmanager
def logged_in_as(user) -> Iterator[None]:
    """MLflow's client in this process logs in as `user` (None: anonymous) inside the block."""
    keys = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
    saved = {key: os.environ.get(key) for key in keys}
    for key in keys:
        os.environ.pop(key, None)
    if user is not None:
        os.environ.update(user.tracking_env())
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
