"""Runs the real project_pipeline DAG locally with `dag.test()`, in a child process.

Airflow reads its configuration from the environment when first imported, so the DAG runs
in a child whose environment is built here (airflow_env): its home and SQLite metadata DB
under PROYECTO4_HOME/airflow, the repository's dags/ folder, no example DAGs. This process
never changes its own environment. Variables already set (AIRFLOW__...) win.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from proyecto4_common.names import DAG_ID


def dags_folder() -> Path:
    import pipeline

    return Path(pipeline.__file__).resolve().parents[1]


def airflow_env(airflow_home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) plus what a local Airflow needs."""
    base = dict(os.environ if base is None else base)
    defaults = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
    }
    return {**defaults, **base, "AIRFLOW_HOME": str(airflow_home)}


def prepare(airflow_home: Path) -> dict[str, str]:
    """Migrates the metadata DB of `airflow_home` (a few seconds, once per home); returns the
    environment a process running Airflow there needs."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(airflow_home)
    # Migrating an up-to-date DB is harmless but costs seconds: do it once per home.
    if not (airflow_home / ".migrated").exists() or not (airflow_home / "airflow.db").exists():
        airflow = Path(sys.executable).parent / "airflow"
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=env)
        (airflow_home / ".migrated").touch()
    return env


def run_dag(until: date | None = None, start: date | None = None):
    """Runs every task of the DAG in order in this process; returns the DagRun. The process's
    environment must be airflow_env()'s (run_in_child does that)."""
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


def run_in_child(
    airflow_home: Path,
    until: date | None = None,
    start: date | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Runs the DAG with run_dag in a child process prepared for `airflow_home`, with `env`
    added to its environment; returns the run's state ("success" or "failed"). The child's
    output is this process's."""
    env = {**prepare(airflow_home), **(env or {})}
    args = [sys.executable, "-m", "proyecto4.local_airflow"]
    args += [f"--until={until.isoformat()}"] if until else []
    args += [f"--start={start.isoformat()}"] if start else []
    return "success" if subprocess.run(args, env=env, check=False).returncode == 0 else "failed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Runs project_pipeline once with dag.test().")
    parser.add_argument("--until", type=date.fromisoformat)
    parser.add_argument("--start", type=date.fromisoformat)
    args = parser.parse_args(argv)
    run = run_dag(until=args.until, start=args.start)
    return 0 if run.state == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
