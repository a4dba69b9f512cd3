"""Database URLs as users write them, turned into engines the same way everywhere.

DATA_DB_URL (and OPTUNA_STORAGE_URL) come from people, charts and libpq habits: the
pipeline, the API, the UI and the CLI must accept the same spellings. SQLAlchemy maps a bare
`postgresql://` to psycopg2 and rejects `postgres://`; the driver installed is psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

POSTGRESQL_DRIVER = "postgresql+psycopg"
# Scheme as written -> the SQLAlchemy driver name it means here.
SCHEMES = {
    "postgresql": POSTGRESQL_DRIVER,
    "postgres": POSTGRESQL_DRIVER,
    "postgresql+psycopg": POSTGRESQL_DRIVER,
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
}
SUPPORTED = "postgresql://, postgres://, postgresql+psycopg:// or sqlite:///<file>"


class UnsupportedDatabaseUrl(ValueError):
    """A URL whose scheme this platform has no driver for, or that does not parse."""


def database_url(url: str | URL) -> URL:
    """`url` with the driver this platform uses; raises UnsupportedDatabaseUrl otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UnsupportedDatabaseUrl(f"not a database URL ({SUPPORTED}): {exc}") from None
    driver = SCHEMES.get(parsed.drivername)
    if driver is None:
        raise UnsupportedDatabaseUrl(
            f"unsupported database URL scheme {parsed.drivername + '://'!r}: use {SUPPORTED}"
        )
    return parsed.set(drivername=driver)


def database_url_string(url: str | URL) -> str:
    """database_url() as text with the password, for libraries that take a string (Optuna)."""
    return database_url(url).render_as_string(hide_password=False)


def shown_url(url: str | URL) -> str:
    """The URL without its password, for logs and messages. Text that does not parse is not
    shown at all: it may hold a password where no parser can find it."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def create_database_engine(
    url: str | URL, *, connect_timeout_s: float | None = None, **kwargs: Any
) -> Engine:
    """An engine for any supported URL. A SQLite file's folder is created; on PostgreSQL,
    `connect_timeout_s` bounds each connection attempt (libpq waits forever by default)."""
    parsed = database_url(url)
    connect_args = dict(kwargs.pop("connect_args", {}))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    elif connect_timeout_s is not None:
        connect_args.setdefault("connect_timeout", max(1, int(connect_timeout_s)))
    return create_engine(parsed, connect_args=connect_args, **kwargs)
