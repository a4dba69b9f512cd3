"""The install-time first run (pipeline.first_run) against Airflow 3.3's real API server
(`airflow api-server` on SQLite with the simple auth manager; the chart's FAB auth manager
serves the same /auth/token): it waits for the DAG, triggers one run, then never another."""

from __future__ import annotations

import subprocess
import threading

import httpx
import pytest
from pipeline.first_run import FIRST_RUN_ID, AirflowApi, first_run
from pipeline.settings import FirstRunSettings
from proyecto4.local_airflow import dags_folder
from proyecto4_common.names import DAG_ID
from servers import BIN, airflow_api_server, airflow_env

PASSWORD = "first-run-test"


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """(API URL, env) of a real API server whose metadata DB has not seen the DAG yet."""
    env = airflow_env(tmp_path_factory.mktemp("airflow-api"), dags_folder(), {"admin": PASSWORD})
    with airflow_api_server(env) as url:
        yield url, env


def settings(url: str, **overrides) -> FirstRunSettings:
    values = {"airflow_api_url": url, "airflow_admin_password": PASSWORD, "first_run_poll_s": 0.5}
    return FirstRunSettings(**{**values, **overrides})


def parse_dags(env: dict[str, str]) -> None:
    """What the DAG processor does in the cluster: the DAG reaches the metadata DB."""
    import os

    subprocess.run(
        [str(BIN / "airflow"), "dags", "reserialize"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=300,
    )


def test_a_wrong_password_waits_then_fails_with_a_clear_message(airflow):
    url, _ = airflow

    with pytest.raises(
        TimeoutError, match=r"gave up waiting for Airflow's API server.*refuses user 'admin'"
    ):
        first_run(settings(url, airflow_admin_password="wrong", first_run_wait_s=1.5))


def test_an_unreachable_server_is_waited_for_then_reported():
    with pytest.raises(TimeoutError, match="does not answer"):
        first_run(settings("http://127.0.0.1:9", first_run_wait_s=1))


def test_waits_for_the_dag_triggers_once_then_does_nothing(airflow):
    url, env = airflow
    outcome: dict = {}
    waiting = threading.Thread(
        target=lambda: outcome.update(first=first_run(settings(url, first_run_wait_s=240)))
    )
    waiting.start()
    parse_dags(env)  # the DAG appears while the first run waits for it
    waiting.join(300)

    again = first_run(settings(url, first_run_wait_s=30))
    api = AirflowApi(settings(url))
    api.login()
    runs = httpx.get(f"{url}/api/v2/dags/{DAG_ID}/dagRuns", headers=api.http.headers).json()
    racing_trigger = api.trigger()
    api.close()

    assert outcome["first"].triggered is True
    assert f"triggered the first run of {DAG_ID}: {FIRST_RUN_ID}" in outcome["first"].message
    assert again.triggered is False
    assert again.message == f"nothing to do: {DAG_ID} already has a run ({FIRST_RUN_ID}, queued)"
    assert [(r["dag_run_id"], r["run_type"], r["conf"]) for r in runs["dag_runs"]] == [
        (FIRST_RUN_ID, "manual", {})
    ]
    assert racing_trigger is None  # a second POST with the same run id: 409, no second run
