"""Airflow's remote task logs work with the settings the chart renders: a task run as a task
pod runs it uploads its log under the chart's prefix of moto's S3 server, and Airflow's log
reader reads it back once the local copy is gone (tests/pipeline/task_log_run.py says how).

The worker's settings are read from the rendered objects (airflow.cfg's [logging] section, the
pod template's envFrom: the object store's connection and keys); the one value set for the test
is the object store's endpoint, mlflow.env.MLFLOW_S3_ENDPOINT_URL, pointed at moto.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from chart.chart_render import (
    airflow_cfg,
    airflow_worker,
    container_env,
    real_deps_dir,
    render_chart,
)
from servers import BIN, s3_server

DAG_ID = "task_log_check"
TASK_ID = "say_something"
MARKER = "proyecto4 task log marker 7f3a"
DAG_FILE = f'''
from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="{DAG_ID}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def task_log_check():
    @task
    def {TASK_ID}():
        print("{MARKER}")

    {TASK_ID}()


task_log_check()
'''

pytestmark = pytest.mark.skipif(
    real_deps_dir() is None, reason="needs the real Airflow chart (PROYECTO4_DEPS_DIR)"
)


def worker_settings(endpoint: str) -> dict[str, str]:
    """The task pod's remote-logging environment as the chart renders it, against endpoint:
    airflow.cfg's [logging] as AIRFLOW__LOGGING__* and every variable of the pod template's
    envFrom (the object store's connection and keys, the data database's settings)."""
    objects = render_chart(values={"mlflow": {"env": {"MLFLOW_S3_ENDPOINT_URL": endpoint}}})
    worker = airflow_worker(objects)
    from_refs = {
        f"{'ConfigMap' if 'configMapRef' in ref else 'Secret'}/"
        f"{ref.get('configMapRef', ref.get('secretRef'))['name']}"
        for ref in worker["envFrom"]
    }
    env = {
        name: value
        for name, (source, value) in container_env(objects, worker).items()
        if source in from_refs
    }
    logging = airflow_cfg(objects)["logging"]
    return env | {f"AIRFLOW__LOGGING__{key.upper()}": value for key, value in logging.items()}


def airflow_env(home: Path, settings: dict[str, str]) -> dict[str, str]:
    """A clean Airflow environment in home (SQLite metadata DB, the test DAG folder) plus settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "_AIRFLOW", "AWS_", "PYTEST_"))
    }
    return (
        env
        | {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        }
        | settings
    )


def test_a_finished_tasks_log_is_kept_in_the_object_store_and_read_back(tmp_path):
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / f"{DAG_ID}.py").write_text(DAG_FILE)

    with s3_server() as endpoint:
        settings = worker_settings(endpoint)
        remote = settings["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"].removeprefix("s3://")
        bucket, prefix = remote.split("/", 1)
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
        )
        s3.create_bucket(Bucket=bucket)  # as MinIO's provisioning does (minio.defaultBuckets)
        env = airflow_env(home, settings)
        subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"],
            check=True,
            capture_output=True,
            env=env,
            timeout=300,
        )
        done = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("task_log_run.py")), DAG_ID, TASK_ID],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        uploaded = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read().decode() if keys else ""

    assert (result["exit_code"], result["state"]) == (0, "success")
    assert keys == [f"{prefix}/{result['log_path']}"]
    assert MARKER in uploaded
    assert result["local_log_left"] is False  # delete_local_logs: only the object store has it
    assert f"s3://{bucket}/{keys[0]}" in result["log"]  # the reader names its source
    assert MARKER in result["log"]
