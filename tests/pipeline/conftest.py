"""Fixtures of the pipeline tests: settings on a fresh database, a misbehaving source."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from trained import small_budget


@pytest.fixture
def settings(postgres_db, data_source_url, tmp_path):
    """Pipeline settings on an empty PostgreSQL database and the real data source."""
    return small_budget(
        proyecto4_home=tmp_path / "home",
        data_db_url=postgres_db,
        data_source_url=data_source_url,
        pipeline_backoff_s=0.01,
    )


@pytest.fixture
def corrupting_source(data_source_url):
    """A real HTTP server in front of the data source that breaks the contract on chosen
    dates: yields (url, corrupt) where corrupt[date] = function(payload) -> bytes."""
    corrupt: dict[str, callable] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            upstream = httpx.get(data_source_url + self.path, timeout=30)
            body = upstream.content
            for day, damage in corrupt.items():
                if f"date={day}" in self.path:
                    body = damage(json.loads(body))
            self.send_response(upstream.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", corrupt
    server.shutdown()


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory):
    """A migrated Airflow home for this test session, set before Airflow is imported (the
    tests import Airflow in this process; the CLI runs it in a child instead)."""
    from proyecto4 import local_airflow

    home = tmp_path_factory.mktemp("airflow")
    env = local_airflow.prepare(home)
    os.environ.update({key: value for key, value in env.items() if key.startswith("AIRFLOW")})
    return home
