"""Fixtures of the UI tests: page runners, closed ports, a throwaway data database."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

APP_DIR = Path(__file__).resolve().parents[2] / "services" / "streamlit" / "streamlit_app"
ENTRY = APP_DIR / "app.py"
PAGES = {name: APP_DIR / "views" / f"{name}.py" for name in ("predict", "history", "explain", "monitor")}
# A cold page run imports MLflow and pandas: generous, since the machine is shared.
PAGE_TIMEOUT_S = 120
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def closed_port() -> int:
    """A port on which nothing listens (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ui_env(monkeypatch, tmp_path):
    """Points the UI's settings at the given servers; anything not given is a closed port."""

    def point(api: str | None = None, mlflow: str | None = None, db: str | None = None) -> None:
        monkeypatch.setenv("PROYECTO4_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("INFERENCE_API_URL", api or f"http://127.0.0.1:{closed_port()}")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow or f"http://127.0.0.1:{closed_port()}")
        monkeypatch.setenv("DATA_DB_URL", db or f"postgresql://postgres@127.0.0.1:{closed_port()}/none")

    return point


@pytest.fixture
def run_page():
    """Runs one page script (or 'app' for the entry point) the way Streamlit would."""

    def run(name: str) -> AppTest:
        path = ENTRY if name == "app" else PAGES[name]
        return AppTest.from_file(str(path), default_timeout=PAGE_TIMEOUT_S).run()

    return run


@pytest.fixture
def data_db_url():
    """A fresh PostgreSQL database of its own, dropped afterwards."""
    name = f"ui_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
