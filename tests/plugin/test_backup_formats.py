"""The chart's backup script (files/backup/backup.sh, the CronJob's database steps) and the
plugin's URL mode read each other's dumps: run for real against the machine's PostgreSQL and
MariaDB, outside the pod (BACKUP_WORK and TMPDIR stand for its emptyDirs).

The script's `objects` step needs mc, which only its image has: container tests cover it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from backup_databases import drop_database, new_database
from helm_plugin_env import REPO
from proyecto4_plugin.names import BACKUP_PARTS
from proyecto4_plugin.stores import Database, Stores, make_backup, restore_mysql, restore_postgresql

SCRIPT = REPO / "files/backup/backup.sh"
ROWS = [(1, "on time"), (2, "delayed"), (3, "ñandú ✈")]


def _fill(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE flights (id integer PRIMARY KEY, label varchar(40))"))
        conn.execute(
            sa.text("INSERT INTO flights VALUES (:id, :label)"),
            [{"id": i, "label": label} for i, label in ROWS],
        )
    engine.dispose()


def _rows(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("SELECT * FROM flights ORDER BY id"))]
    finally:
        engine.dispose()


@pytest.fixture
def databases(postgres_admin_url, mysql_admin_url):
    """Two filled databases (PostgreSQL, MariaDB) and two empty ones to restore into."""
    urls = {
        "pg": new_database(postgres_admin_url, "bkfmt"),
        "my": new_database(mysql_admin_url, "bkfmt"),
        "pg_empty": new_database(postgres_admin_url, "bkfmt"),
        "my_empty": new_database(mysql_admin_url, "bkfmt"),
    }
    _fill(urls["pg"])
    _fill(urls["my"])
    yield urls
    for url in urls.values():
        drop_database(url)


def run_script(step: str, work: Path, tmp: Path, **env: str) -> None:
    done = subprocess.run(
        ["bash", str(SCRIPT), step],
        env={**os.environ, "BACKUP_WORK": str(work), "TMPDIR": str(tmp), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_plugin_loads_the_scripts_dumps(databases, tmp_path):
    work = tmp_path / "work"
    run_script("postgresql", work, tmp_path, DATA_DB_URL=databases["pg"])
    run_script("mysql", work, tmp_path, MLFLOW_DB_URL=databases["my"])
    assert (work / BACKUP_PARTS["data"][1]).is_file()
    assert (work / BACKUP_PARTS["mlflow"][1]).is_file()

    restore_postgresql(
        Database.parse(databases["pg_empty"], "postgresql"), work / BACKUP_PARTS["data"][1]
    )
    restore_mysql(
        Database.parse(databases["my_empty"], "mysql"), work / BACKUP_PARTS["mlflow"][1], tmp_path
    )
    assert _rows(databases["pg_empty"]) == ROWS
    assert _rows(databases["my_empty"]) == ROWS


def test_the_script_loads_the_plugins_backup(databases, tmp_path):
    stores = Stores.from_urls(
        data=databases["pg"], airflow=None, mlflow=databases["my"], artifacts=None, endpoint=None
    )
    folder = tmp_path / "20260102T030405Z"
    make_backup(stores, folder, folder.name, made_by="test")

    env = {"BACKUP_ACTION": "restore", "BACKUP_ID": folder.name}
    run_script("postgresql", folder, tmp_path, DATA_DB_URL=databases["pg_empty"], **env)
    run_script("mysql", folder, tmp_path, MLFLOW_DB_URL=databases["my_empty"], **env)
    assert _rows(databases["pg_empty"]) == ROWS
    assert _rows(databases["my_empty"]) == ROWS
