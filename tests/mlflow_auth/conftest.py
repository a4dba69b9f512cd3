"""A real MLflow server with basic-auth, started the way `proyecto4 demo` starts it (users and
credentials generated into a PROYECTO4_HOME), and the platform's parts logging in to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import free_port, logged_in_as
from trained import TRAINED_WINDOW, run_pipeline_steps, small_budget


@pytest.fixture(scope="session")
def auth_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("auth-home")


@pytest.fixture(scope="session")
def secured_mlflow(auth_home):
    """(url, LocalAuth): the demo's MLflow server, basic-auth on, on a free port."""
    from pipeline.settings import PipelineSettings
    from proyecto4.processes import background, mlflow_auth

    settings = PipelineSettings(proyecto4_home=auth_home)
    settings.ensure_home()
    auth = mlflow_auth(settings)
    env = {**auth.server_env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with background("mlflow", free_port(), settings, env, timeout=400) as url:
        yield url, auth


@pytest.fixture(scope="session")
def users(secured_mlflow):
    return secured_mlflow[1].credentials


@pytest.fixture(scope="session")
def auth_data_db(postgres_admin_url) -> Iterator[str]:
    """A data database of this area's own (the shared trained model keeps its tables)."""
    import sqlalchemy as sa

    name = f"auth_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield (
            sa.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@dataclass
class SecuredModel:
    url: str
    data_db_url: str
    version: str
    decision: dict


@pytest.fixture(scope="session")
def secured_model(
    secured_mlflow, users, auth_data_db, data_source_url, tmp_path_factory
) -> SecuredModel:
    """The pipeline's steps, run as the `pipeline` user against the secured server, up to a
    production model."""
    from mlflow import MlflowClient

    url = secured_mlflow[0]
    settings = small_budget(
        proyecto4_home=tmp_path_factory.mktemp("auth-pipeline-home"),
        data_db_url=auth_data_db,
        mlflow_tracking_uri=url,
        data_source_url=data_source_url,
    )
    with logged_in_as(users.pipeline):
        _runs, decision = run_pipeline_steps(settings, *TRAINED_WINDOW)
        version = MlflowClient(url).get_model_version_by_alias("flight-delay", "production")
    return SecuredModel(url, auth_data_db, str(version.version), decision)
