"""Databases of the backup tests on the machine's servers: made fresh, dropped, recreated
empty (what a lost volume and a server's first start leave)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa


def _admin(url: str) -> tuple[sa.Engine, str, str]:
    """An AUTOCOMMIT engine on the server's admin database, the database name, and the
    clause that drops a PostgreSQL database with its open connections."""
    target = sa.make_url(url)
    postgres = target.get_backend_name() == "postgresql"
    admin = sa.create_engine(
        target.set(database="postgres" if postgres else "mysql"), isolation_level="AUTOCOMMIT"
    )
    return admin, target.database, " WITH (FORCE)" if postgres else ""


def new_database(admin_url: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    admin, _, _ = _admin(url)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return url


def drop_database(url: str, *, recreate: bool = False) -> None:
    admin, name, force = _admin(url)
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}{force}"))
        if recreate:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
