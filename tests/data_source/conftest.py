"""Fixtures of the data source tests: in-process apps and real uvicorn processes."""

from __future__ import annotations

import sys

import pytest
from data_source.app import create_app
from data_source.settings import DataSourceSettings
from fastapi.testclient import TestClient
from proyecto4_common.net import free_port
from servers import running, uvicorn_app


def _client(**settings):
    with TestClient(create_app(DataSourceSettings(**settings))) as client:
        yield client


@pytest.fixture(scope="session")
def one_group():
    """The app with one group (every row), in-process; the data set is loaded once per session."""
    yield from _client(groups=1)


@pytest.fixture(scope="session")
def three_groups():
    yield from _client(groups=3)


@pytest.fixture(scope="session")
def slow_server_url():
    """A real uvicorn process with three groups and 300 ms of added latency."""
    env = {"DATA_SOURCE_GROUPS": "3", "DATA_SOURCE_LATENCY_MS": "300"}
    with uvicorn_app("data_source.app:create_app", env) as url:
        yield url


@pytest.fixture(scope="session")
def failing_server_url():
    """`python -m data_source` on a free port (env PORT) with every /data request failing."""
    port = free_port()
    env = {"PORT": str(port), "DATA_SOURCE_ERROR_RATE": "1.0"}
    url = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "data_source"], url + "/health", env):
        yield url
