"""The last run of the pipeline DAG, from the Airflow 3 REST API (`/api/v2`)."""

from __future__ import annotations

import base64
import os

from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.http import Service
from proyecto4_plugin.kube import Cluster
from proyecto4_plugin.names import DAG_ID
from proyecto4_plugin.release import AIRFLOW_ADMIN_SECRET, AIRFLOW_ADMIN_USERNAME


def release_login(cluster: Cluster, facts: dict[str, str]) -> tuple[str, str] | None:
    """The login of the Airflow admin the chart's create-user Job makes: the user name its
    release-facts ConfigMap gives, the password from the Secret it names (key `password`);
    None when the release has no Airflow."""
    user, secret_name = facts.get(AIRFLOW_ADMIN_USERNAME), facts.get(AIRFLOW_ADMIN_SECRET)
    if not (user and secret_name):
        return None
    secret = cluster.get_json("get", "secret", secret_name)
    encoded = (secret.get("data") or {}).get("password")
    return (user, base64.b64decode(encoded).decode()) if encoded else None


def _token(airflow: Service, login: tuple[str, str] | None) -> str:
    """A JWT from /auth/token: with AIRFLOW_USERNAME/AIRFLOW_PASSWORD, else the release's
    admin login, else the all-admins token Airflow's simple auth manager can hand out."""
    user, password = os.environ.get("AIRFLOW_USERNAME"), os.environ.get("AIRFLOW_PASSWORD")
    if not (user and password) and login:
        user, password = login
    if user and password:
        body = airflow.json(
            "POST", "/auth/token", json={"username": user, "password": password}, expect=(200, 201)
        )
    else:
        body = airflow.json("GET", "/auth/token", expect=(200, 201))
    return body["access_token"]


def last_dag_run(airflow: Service, login: tuple[str, str] | None = None) -> str:
    """One line about the DAG's latest run, or why it is unknown."""
    try:
        headers = {"Authorization": f"Bearer {_token(airflow, login)}"}
        response = airflow.call(
            "GET",
            f"/api/v2/dags/{DAG_ID}/dagRuns",
            params={"order_by": "-run_after", "limit": 1},
            headers=headers,
            expect=(200, 404),
        )
    except PluginError as exc:
        return f"unknown ({exc})"
    if response.status_code == 404:
        return f"unknown (Airflow has no DAG {DAG_ID})"
    runs = response.json()["dag_runs"]
    if not runs:
        return f"{DAG_ID} has not run yet"
    run = runs[0]
    times = [
        f"{label} {run[key]}"
        for label, key in (("started", "start_date"), ("ended", "end_date"))
        if run.get(key)
    ]
    return ", ".join([f"{run['dag_run_id']} {run['state']}", *times])


def set_paused(airflow: Service, paused: bool, login: tuple[str, str] | None = None) -> bool:
    """Pauses or unpauses the pipeline DAG; returns whether it was paused before."""
    headers = {"Authorization": f"Bearer {_token(airflow, login)}"}
    dag = airflow.json("GET", f"/api/v2/dags/{DAG_ID}", headers=headers)
    airflow.call("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": paused}, headers=headers)
    return bool(dag.get("is_paused"))
