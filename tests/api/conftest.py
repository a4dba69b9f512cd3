"""Fixtures of the inference API tests: the pipeline's real model in a real MLflow server,
real PostgreSQL databases and the API as a real uvicorn process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_helpers import api_env, database, running_api


@pytest.fixture(scope="session")
def log_db(postgres_admin_url):
    with database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def api(trained_model, log_db) -> Iterator[str]:
    """An API on the production model, list limit 20, drift reported from 5 rows."""
    env = api_env(trained_model, log_db, max_records=20, drift_min_rows=5)
    with running_api(env) as url:
        yield url


@pytest.fixture
def record(trained_model) -> dict:
    return trained_model.spec.example_record()
