"""Runs the real project_pipeline DAG in this process with `dag.test()`.

Airflow reads its configuration when first imported, so the environment is prepared
before any Airflow import: its home and SQLite metadata DB under PROYECTO4_HOME/airflow,
the repository's dags/ folder, no example DAGs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from proyecto4_common.names import DAG_ID


def dags_folder() -> Path:
    import pipeline

    return Path(pipeline.__file__).resolve().parents[1]


def prepare(airflow_home: Path) -> None:
    """Points Airflow at `airflow_home` and migrates its metadata DB (a few seconds)."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(dags_folder()))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    os.environ.setdefault(
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{airflow_home / 'airflow.db'}"
    )
    # Migrating an up-to-date DB is harmless but costs seconds: do it once per home.
    if not (airflow_home / ".migrated").exists() or not (airflow_home / "airflow.db").exists():
        airflow = Path(sys.executable).parent / "airflow"
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ)
        (airflow_home / ".migrated").touch()


def run_dag(until: date | None = None, start: date | None = None):
    """Runs every task of the DAG in order in this process; returns the DagRun."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder() / "project_pipeline.py"))
    if bag.import_errors:
        raise RuntimeError(f"the DAG does not import: {bag.import_errors}")
    dag = bag.get_dag(DAG_ID)
    conf = {
        "until": until.isoformat() if until else None,
        "start": start.isoformat() if start else None,
    }
    return dag.test(run_conf=conf)
