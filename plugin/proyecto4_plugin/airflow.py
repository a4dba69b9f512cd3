"""The last run of the pipeline DAG, from the Airflow 3 REST API (`/api/v2`)."""

from __future__ import annotations

import os

from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.http import Service
from proyecto4_plugin.names import DAG_ID


def _token(airflow: Service) -> str:
    """A JWT from /auth/token: with AIRFLOW_USERNAME/AIRFLOW_PASSWORD, else the all-admins
    token that Airflow's simple auth manager hands out when configured to."""
    user, password = os.environ.get("AIRFLOW_USERNAME"), os.environ.get("AIRFLOW_PASSWORD")
    if user and password:
        body = airflow.json(
            "POST", "/auth/token", json={"username": user, "password": password}, expect=(200, 201)
        )
    else:
        body = airflow.json("GET", "/auth/token", expect=(200, 201))
    return body["access_token"]


def last_dag_run(airflow: Service) -> str:
    """One line about the DAG's latest run, or why it is unknown."""
    try:
        headers = {"Authorization": f"Bearer {_token(airflow)}"}
        runs = airflow.json(
            "GET",
            f"/api/v2/dags/{DAG_ID}/dagRuns",
            params={"order_by": "-run_after", "limit": 1},
            headers=headers,
        )["dag_runs"]
    except PluginError as exc:
        return f"unknown ({exc})"
    if not runs:
        return f"{DAG_ID} has not run yet"
    run = runs[0]
    ended = f", ended {run['end_date']}" if run.get("end_date") else ""
    return f"{run['dag_run_id']} {run['state']}, started {run.get('start_date')}{ended}"
