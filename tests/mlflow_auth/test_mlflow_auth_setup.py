"""proyecto4_mlflow.auth without a server: the users' store, its configuration file, the
local credentials (what the chart's init container and `proyecto4 demo` run)."""

from __future__ import annotations

import configparser
import stat

import pytest
from proyecto4_mlflow.auth import Credentials, User, local_credentials, sync_users, write_config


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('auth-store') / 'auth.db'}"


def _store(uri):
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore()
    store.init_db(uri)
    return store


def test_sync_creates_the_users_and_a_second_run_rotates_a_changed_password(store_uri):
    credentials = Credentials.generate()
    sync_users(store_uri, credentials)
    sync_users(store_uri, credentials)  # idempotent: a second pod, a restart
    store = _store(store_uri)
    assert store.get_user(credentials.admin.username).is_admin
    assert not store.get_user(credentials.pipeline.username).is_admin
    assert not store.get_user(credentials.reader.username).is_admin
    for user in (credentials.admin, credentials.pipeline, credentials.reader):
        assert store.authenticate_user(user.username, user.password)

    rotated = Credentials(
        credentials.admin,
        User(credentials.pipeline.username, "a-new-pipeline-password"),
        credentials.reader,
    )
    sync_users(store_uri, rotated)
    assert store.authenticate_user("pipeline", "a-new-pipeline-password")
    assert not store.authenticate_user("pipeline", credentials.pipeline.password)
    store.engine.dispose()


def test_the_store_is_created_on_mysql_and_the_server_finds_it_migrated(mysql_db):
    """The chart's store is MySQL, where MLflow's own first migration fails alone (two foreign
    keys named fk_user_id); the server's start-up migration must then find nothing to do."""
    from sqlalchemy import create_engine, text

    credentials = Credentials.generate()
    sync_users(mysql_db, credentials)
    sync_users(mysql_db, credentials)

    store = _store(mysql_db)  # what the server does at start-up, without our renaming
    assert store.authenticate_user(credentials.pipeline.username, credentials.pipeline.password)
    store.engine.dispose()
    engine = create_engine(mysql_db)
    with engine.connect() as conn:
        heads = conn.execute(text("SELECT version_num FROM alembic_version_auth")).scalars().all()
        keys = conn.execute(
            text(
                "SELECT constraint_name FROM information_schema.referential_constraints"
                " WHERE constraint_schema = DATABASE()"
                " AND table_name IN ('experiment_permissions', 'registered_model_permissions')"
            )
        ).scalars()
        assert sorted(keys) == ["fk_registered_model_perm_user_id", "fk_user_id"]
    engine.dispose()
    from alembic.script import ScriptDirectory
    from mlflow.server.auth.db.utils import _get_alembic_config

    assert heads == [ScriptDirectory.from_config(_get_alembic_config(mysql_db)).get_current_head()]


def test_the_configuration_file_is_owner_only_and_refuses_by_default_to_write(tmp_path):
    path = write_config(
        tmp_path / "auth" / "basic_auth.ini", "mysql+pymysql://mlflow:pw@mysql/mlflow_auth", "admin"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = configparser.ConfigParser(interpolation=None)
    config.read(path)
    assert config["mlflow"]["default_permission"] == "READ"
    assert config["mlflow"]["admin_username"] == "admin"
    assert "admin_password" not in config["mlflow"]


def test_local_credentials_are_generated_once_into_an_owner_only_file(tmp_path):
    first, key, created = local_credentials(tmp_path)
    again, same_key, created_again = local_credentials(tmp_path)
    assert (created, created_again) == (True, False)
    assert (again, same_key) == (first, key)
    assert stat.S_IMODE((tmp_path / "mlflow-credentials.json").stat().st_mode) == 0o600
    assert [u.username for u in (first.admin, first.pipeline, first.reader)] == [
        "admin",
        "pipeline",
        "reader",
    ]
    assert len({first.admin.password, first.pipeline.password, first.reader.password}) == 3


def test_the_init_container_refuses_to_start_without_its_credentials():
    with pytest.raises(SystemExit, match="PROYECTO4_MLFLOW_READER_PASSWORD"):
        Credentials.from_env(
            {"MLFLOW_AUTH_ADMIN_USERNAME": "admin", "MLFLOW_AUTH_ADMIN_PASSWORD": "x" * 20}
        )
