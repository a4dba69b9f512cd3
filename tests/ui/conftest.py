"""Fixtures of the UI tests: page runners, closed ports, a throwaway data database."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from proyecto4_common.net import free_port
from proyecto4_common.settings import MLFLOW_CLIENT_ENV
from servers import uvicorn_app
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

APP_DIR = Path(__file__).resolve().parents[2] / "services" / "streamlit" / "streamlit_app"
ENTRY = APP_DIR / "app.py"
PAGES = {
    name: APP_DIR / "views" / f"{name}.py" for name in ("predict", "history", "explain", "monitor")
}
# A cold page run imports MLflow and pandas: generous, since the machine is shared.
PAGE_TIMEOUT_S = 120


@pytest.fixture
def ui_env(monkeypatch, tmp_path):
    """Points the UI's settings at the given servers; anything not given is a closed port."""

    def point(api: str | None = None, mlflow: str | None = None, db: str | None = None) -> None:
        monkeypatch.setenv("PROYECTO4_HOME", str(tmp_path / "home"))
        # The pages run in this process: MLflow's client fails fast, as in the UI's image.
        for key, value in MLFLOW_CLIENT_ENV.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("INFERENCE_API_URL", api or f"http://127.0.0.1:{free_port()}")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow or f"http://127.0.0.1:{free_port()}")
        monkeypatch.setenv(
            "DATA_DB_URL", db or f"postgresql://postgres@127.0.0.1:{free_port()}/none"
        )

    return point


@pytest.fixture
def run_page():
    """Runs one page script (or 'app' for the entry point) the way Streamlit would."""

    def run(name: str) -> AppTest:
        path = ENTRY if name == "app" else PAGES[name]
        return AppTest.from_file(str(path), default_timeout=PAGE_TIMEOUT_S).run()

    return run


@pytest.fixture(scope="session")
def api_log_db(postgres_admin_url):
    """The API's own inference_log database, so UI predictions stay out of shared ones."""
    name = f"ui_{uuid.uuid4().hex[:12]}"
    admin = make_url(postgres_admin_url)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield admin.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def api_url(trained_model, api_log_db, tmp_path_factory):
    """The real inference API serving the trained model (ready before the tests start)."""
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "DATA_DB_URL": api_log_db,
        "PROYECTO4_HOME": str(tmp_path_factory.mktemp("api-home")),
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
    }
    with uvicorn_app("inference_api.app:create_app", env, health="/ready") as url:
        yield url
