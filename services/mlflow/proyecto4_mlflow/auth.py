"""MLflow's basic-auth for the platform: the server's auth configuration and the users the
platform's parts log in with.

The chart runs `python -m proyecto4_mlflow.auth` in an init container of the MLflow server
pod (credentials and database URI from Secrets, in the environment); the local CLI calls
the same functions before it starts its server, with credentials kept under PROYECTO4_HOME.

Each start makes the auth store match the credentials it is given: missing users are
created and a password that changed in the Secret replaces the stored one, so rotating a
password is "change the Secret, restart the server" and no password lives only in the store.
"""

from __future__ import annotations

import configparser
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from proyecto4_common.names import (
    MLFLOW_ADMIN_USER,
    MLFLOW_PIPELINE_USER,
    MLFLOW_READER_USER,
    MODEL_NAME,
)

# What an authenticated user without a grant may do. READ: the API and the UI need no grant
# per experiment (the pipeline creates experiments after the users exist). Requests without
# valid credentials are refused whatever this says (basic-auth answers 401).
DEFAULT_PERMISSION = "READ"
# The environment the init container reads; the admin's are MLflow's own names.
ENV_DATABASE_URI = "MLFLOW_AUTH_DATABASE_URI"
ENV_NAMES = {
    "admin": ("MLFLOW_AUTH_ADMIN_USERNAME", "MLFLOW_AUTH_ADMIN_PASSWORD"),
    "pipeline": ("PROYECTO4_MLFLOW_PIPELINE_USERNAME", "PROYECTO4_MLFLOW_PIPELINE_PASSWORD"),
    "reader": ("PROYECTO4_MLFLOW_READER_USERNAME", "PROYECTO4_MLFLOW_READER_PASSWORD"),
}
LOCAL_CREDENTIALS_FILE = "mlflow-credentials.json"
LOCAL_CONFIG_FILE = "mlflow-auth.ini"
LOCAL_AUTH_DB_FILE = "mlflow-auth.db"


@dataclass(frozen=True)
class User:
    username: str
    password: str

    def tracking_env(self) -> dict[str, str]:
        """The variables MLflow's client reads to log in as this user."""
        return {
            "MLFLOW_TRACKING_USERNAME": self.username,
            "MLFLOW_TRACKING_PASSWORD": self.password,
        }


@dataclass(frozen=True)
class Credentials:
    admin: User
    pipeline: User
    reader: User

    @classmethod
    def from_env(cls, environ=os.environ) -> Credentials:
        missing = [name for pair in ENV_NAMES.values() for name in pair if not environ.get(name)]
        if missing:
            raise SystemExit(f"MLflow auth setup: set {', '.join(missing)}")
        return cls(
            **{
                role: User(environ[user], environ[password])
                for role, (user, password) in ENV_NAMES.items()
            }
        )

    @classmethod
    def generate(cls) -> Credentials:
        names = {
            "admin": MLFLOW_ADMIN_USER,
            "pipeline": MLFLOW_PIPELINE_USER,
            "reader": MLFLOW_READER_USER,
        }
        return cls(**{role: User(name, secrets.token_urlsafe(18)) for role, name in names.items()})


def write_config(path: Path | str, database_uri: str, admin_username: str) -> Path:
    """MLflow's auth configuration (MLFLOW_AUTH_CONFIG_PATH). It holds the store's URI, with
    its database password, so it is written owner-only and never kept in a ConfigMap."""
    config = configparser.ConfigParser(interpolation=None)
    config["mlflow"] = {
        "default_permission": DEFAULT_PERMISSION,
        "database_uri": database_uri,
        "admin_username": admin_username,
        "authorization_function": "mlflow.server.auth:authenticate_request_basic_auth",
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        config.write(handle)
    return path


# MLflow's first auth migration (8606fa83a998) gives the foreign keys of two tables the same
# name, fk_user_id. MySQL and MariaDB want constraint names unique in a database (errno 121,
# "Duplicate key on write or update"), so on the chart's MySQL the migration stops halfway.
# While this process migrates the store, the second table's key gets a name of its own; the
# rest is MLflow's own migrations, and the server finds the store at their head.
_SECOND_TABLE = "CREATE TABLE registered_model_permissions"
_SHARED_NAME = "CONSTRAINT fk_user_id "
_OWN_NAME = "CONSTRAINT fk_registered_model_perm_user_id "


def _own_foreign_key_name(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name in ("mysql", "mariadb") and statement.lstrip().startswith(_SECOND_TABLE):
        statement = statement.replace(_SHARED_NAME, _OWN_NAME)
    return statement, parameters


@contextmanager
def _mysql_safe_migrations() -> Iterator[None]:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", _own_foreign_key_name, retval=True)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", _own_foreign_key_name)


def sync_users(database_uri: str, credentials: Credentials) -> None:
    """Creates or updates the three users and the pipeline's grants (idempotent; several
    server pods may run it at once)."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore()
    with _mysql_safe_migrations():
        store.init_db(database_uri)  # creates or migrates the auth tables
    try:
        for user, is_admin in (
            (credentials.admin, True),
            (credentials.pipeline, False),
            (credentials.reader, False),
        ):
            if not store.has_user(user.username, use_primary=True):
                try:
                    store.create_user(user.username, user.password, is_admin=is_admin)
                    continue
                except MlflowException:
                    pass  # another pod created it first: check it below
            stored = store.get_user(user.username)
            if stored.is_admin != is_admin or not store.authenticate_user(
                user.username, user.password, use_primary=True
            ):
                store.update_user(user.username, password=user.password, is_admin=is_admin)
        # The pipeline logs runs in any experiment (it creates its own, and an experiment made
        # before authentication was on has no owner) and manages the registered model (versions
        # and the production alias), whether or not it exists yet.
        store.grant_user_permission(credentials.pipeline.username, "experiment", "*", "EDIT")
        store.grant_user_permission(
            credentials.pipeline.username, "registered_model", MODEL_NAME, "MANAGE"
        )
    finally:
        store.engine.dispose()


def local_credentials(home: Path) -> tuple[Credentials, str, bool]:
    """The local platform's credentials and the server's CSRF secret key under `home`,
    generated on first use (file 0600); True when they were generated now."""
    path = Path(home) / LOCAL_CREDENTIALS_FILE
    if path.exists():
        data = json.loads(path.read_text())
        users = {role: User(**data[role]) for role in ("admin", "pipeline", "reader")}
        return Credentials(**users), data["flask_secret_key"], False
    credentials = Credentials.generate()
    secret_key = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({**asdict(credentials), "flask_secret_key": secret_key}, handle, indent=2)
    return credentials, secret_key, True


@dataclass(frozen=True)
class LocalAuth:
    """A local MLflow server's auth: what its process needs in the environment, the users'
    credentials and whether they were generated on this start."""

    server_env: dict[str, str]
    credentials: Credentials
    created: bool
    credentials_file: Path


def prepare_local(home: Path) -> LocalAuth:
    """Auth configuration and users of a local MLflow server (SQLite store under `home`)."""
    home = Path(home)
    credentials, secret_key, created = local_credentials(home)
    database_uri = f"sqlite:///{home / LOCAL_AUTH_DB_FILE}"
    config = write_config(home / LOCAL_CONFIG_FILE, database_uri, credentials.admin.username)
    sync_users(database_uri, credentials)
    env = {"MLFLOW_AUTH_CONFIG_PATH": str(config), "MLFLOW_FLASK_SERVER_SECRET_KEY": secret_key}
    return LocalAuth(env, credentials, created, home / LOCAL_CREDENTIALS_FILE)


def main() -> None:
    credentials = Credentials.from_env()
    database_uri = os.environ.get(ENV_DATABASE_URI)
    config_path = os.environ.get("MLFLOW_AUTH_CONFIG_PATH")
    if not database_uri or not config_path:
        raise SystemExit(f"MLflow auth setup: set {ENV_DATABASE_URI} and MLFLOW_AUTH_CONFIG_PATH")
    write_config(config_path, database_uri, credentials.admin.username)
    sync_users(database_uri, credentials)
    users = ", ".join(
        user.username for user in (credentials.admin, credentials.pipeline, credentials.reader)
    )
    print(f"MLflow auth: configuration at {config_path}, users ready: {users}", flush=True)


if __name__ == "__main__":
    main()
