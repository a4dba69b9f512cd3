"""The real project_pipeline DAG: it imports cleanly and runs end to end with dag.test()."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from mlflow import MlflowClient
from proyecto4_common.names import DAG_ID, MODEL_NAME
from servers import mlflow_server
from sqlalchemy import create_engine, text

OBJECTIVES = ("accuracy", "auroc")
TASKS = {
    "create_raw_tables",
    "extract_data",
    "measure_live_quality",
    "decide_retraining",
    "preprocess_and_split",
    *(f"{step}_{objective}" for objective in OBJECTIVES for step in ("prepare_tuning", "tune")),
    "train_model_accuracy",
    "train_model_auroc",
    "register_champion_model",
}
SMALL_BUDGET_ENV = {
    "PIPELINE_OPTUNA_TRIALS": "2",
    "PIPELINE_LIGHTGBM_MAX_ROUNDS": "100",
    "PIPELINE_SHAP_SAMPLE_ROWS": "100",
    "PIPELINE_BACKOFF_S": "0.1",
}


@pytest.fixture
def dag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag
    from proyecto4.local_airflow import dags_folder

    bag = DagBag(dag_folder=str(dags_folder()))
    assert bag.import_errors == {}
    return bag.get_dag(DAG_ID)


def test_dag_has_its_tasks_in_order(dag):
    assert set(dag.task_ids) == TASKS
    assert dag.doc_md and "project_pipeline" in dag.doc_md
    assert all(task.retries >= 1 for task in dag.tasks)
    assert dag.get_task("extract_data").upstream_task_ids == {"create_raw_tables"}
    assert dag.get_task("measure_live_quality").upstream_task_ids == {"extract_data"}
    assert dag.get_task("decide_retraining").upstream_task_ids == {"measure_live_quality"}
    assert dag.get_task("preprocess_and_split").upstream_task_ids == {"decide_retraining"}
    for objective in OBJECTIVES:
        prepare, tune = f"prepare_tuning_{objective}", f"tune_{objective}"
        assert dag.get_task(prepare).upstream_task_ids == {"preprocess_and_split"}
        # Mapped over the prepare task's worker slots: a task instance (a pod) per worker.
        assert type(dag.get_task(tune)).__name__.endswith("MappedOperator")
        assert dag.get_task(tune).upstream_task_ids == {prepare}
        assert dag.get_task(f"train_model_{objective}").upstream_task_ids == {tune}
    assert dag.get_task("register_champion_model").upstream_task_ids == {
        "train_model_accuracy",
        "train_model_auroc",
        "decide_retraining",
    }


@pytest.mark.parametrize(
    ("setting", "schedule", "timetable"),
    [
        (None, "@daily", "CronTriggerTimetable"),
        ("0 3 * * *", "0 3 * * *", "CronTriggerTimetable"),
        ("", None, "NullTimetable"),
    ],
    ids=["default-daily", "cron-from-setting", "empty-means-triggered-only"],
)
def test_dag_is_active_on_creation_and_scheduled_by_the_setting(
    airflow_home, monkeypatch, setting, schedule, timetable
):
    from airflow.dag_processing.dagbag import DagBag
    from proyecto4.local_airflow import dags_folder

    if setting is None:
        monkeypatch.delenv("PIPELINE_SCHEDULE", raising=False)
    else:
        monkeypatch.setenv("PIPELINE_SCHEDULE", setting)
    dag = DagBag(dag_folder=str(dags_folder() / "project_pipeline.py")).get_dag(DAG_ID)

    assert dag.is_paused_upon_creation is False
    assert dag.catchup is False and dag.max_active_runs == 1
    assert (dag.schedule, type(dag.timetable).__name__) == (schedule, timetable)


def _row_count(url: str, table: str) -> int:
    with create_engine(url).connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def test_dag_runs_on_postgres_with_mlflow_on_mariadb(
    dag, postgres_db, mysql_db, data_source_url, monkeypatch, tmp_path
):
    from proyecto4.local_airflow import run_dag

    with mlflow_server(mysql_db, tmp_path / "artifacts") as mlflow_url:
        for key, value in {
            **SMALL_BUDGET_ENV,
            "PROYECTO4_HOME": str(tmp_path / "home"),
            "DATA_DB_URL": postgres_db,
            "MLFLOW_TRACKING_URI": mlflow_url,
            "DATA_SOURCE_URL": data_source_url,
            "PIPELINE_TUNING_WORKERS": "2",
        }.items():
            monkeypatch.setenv(key, value)
        run = run_dag(until=date(2013, 1, 5))
        client = MlflowClient(mlflow_url)
        production = client.get_model_version_by_alias(MODEL_NAME, "production")
        versions = client.search_model_versions(f"name = '{MODEL_NAME}'")

    states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
    assert run.state == "success"
    # Two workers per objective (PIPELINE_TUNING_WORKERS=2): two mapped task instances each.
    assert {(f"tune_{o}", i) for o in OBJECTIVES for i in (0, 1)} <= set(states)
    assert {task for task, _ in states} == TASKS
    assert set(states.values()) == {"success"}
    assert _row_count(postgres_db, "raw_data") > 4000
    assert _row_count(postgres_db, "clean_data") > 4000
    assert _row_count(postgres_db, "promotion_ledger") == 1
    assert len(versions) == 2
    assert production.version in {v.version for v in versions}


def _cli(home: Path, data_source_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_DB_URL", "MLFLOW_TRACKING_URI")}
    env.update(SMALL_BUDGET_ENV, PROYECTO4_HOME=str(home), DATA_SOURCE_URL=data_source_url)
    env.pop("AIRFLOW_HOME", None)
    return subprocess.run(
        [str(Path(sys.executable).parent / "proyecto4"), *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_cli_runs_the_dag_on_sqlite_defaults_and_a_second_run_changes_nothing(
    data_source_url, tmp_path
):
    home = tmp_path / "home"
    first = _cli(home, data_source_url, "pipeline", "run", "--until", "2013-01-04")
    assert first.returncode == 0, first.stderr[-3000:]
    counts = {t: _row_count(f"sqlite:///{home / 'data.db'}", t) for t in ("raw_data", "clean_data")}

    second = _cli(home, data_source_url, "pipeline", "run", "--until", "2013-01-04")
    again = {t: _row_count(f"sqlite:///{home / 'data.db'}", t) for t in ("raw_data", "clean_data")}

    assert second.returncode == 0, second.stderr[-3000:]
    assert "production: flight-delay v" in first.stderr
    assert f"raw_data rows: {counts['raw_data']:,}" in first.stderr
    assert counts["raw_data"] > 3000
    assert again == counts
    assert (home / "mlflow.db").exists() and (home / "mlartifacts").is_dir()


def test_cli_rejects_a_bad_date(tmp_path, data_source_url):
    result = _cli(tmp_path, data_source_url, "pipeline", "run", "--until", "2013-13-01")

    assert result.returncode == 2
    assert "is not a date like 2013-03-31" in result.stderr
