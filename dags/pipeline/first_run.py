"""The first run of project_pipeline at install, through Airflow 3's REST API.

The chart's Helm post-install / Argo CD PostSync Job runs `python -m pipeline.first_run`
in our Airflow image. It waits for the API server, the admin user (made by the chart's
create-user Job) and the parsed DAG, then triggers one run unless the DAG already has one:
the scheduler may have started a scheduled run first, and Argo CD runs the hook on every
sync, so running it again must never queue a second run. The run gets no conf: it ingests
the next `PIPELINE_DAYS_PER_RUN` days after the watermark, as scheduled runs do.

Endpoints (Airflow 3.3, FAB and simple auth managers alike): POST /auth/token,
GET /api/v2/dags/{dag_id}, GET and POST /api/v2/dags/{dag_id}/dagRuns.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

import httpx
from proyecto4_common.http_auth import bearer
from proyecto4_common.names import DAG_ID

from pipeline.settings import FirstRunSettings

log = logging.getLogger("pipeline.first_run")

# A fixed run id: two hooks racing each other get a 409 instead of two runs.
FIRST_RUN_ID = "first_run__install"


class NotYet(Exception):
    """Airflow is not ready for this step yet (starting, no admin user, DAG not parsed)."""


class AirflowRefused(Exception):
    """Airflow answered with an error that waiting will not fix."""


@dataclass
class Outcome:
    triggered: bool
    message: str


class AirflowApi:
    """The few REST calls the first run needs, with a bearer token from /auth/token."""

    def __init__(self, settings: FirstRunSettings, dag_id: str = DAG_ID):
        self.settings = settings
        self.dag_id = dag_id
        self.http = httpx.Client(
            base_url=settings.airflow_api_url.rstrip("/"),
            timeout=settings.first_run_request_timeout_s,
        )

    def close(self) -> None:
        self.http.close()

    def login(self) -> None:
        response = self._send(
            "POST",
            "/auth/token",
            json={
                "username": self.settings.airflow_admin_user,
                "password": self.settings.airflow_admin_password,
            },
        )
        if response.status_code in (401, 403):
            # On a fresh install the create-user Job may not have run yet.
            raise NotYet(f"the API server refuses user {self.settings.airflow_admin_user!r} (yet)")
        self.http.headers.update(bearer(self._json(response)["access_token"]))

    def dag(self) -> dict:
        response = self._send("GET", f"/api/v2/dags/{self.dag_id}")
        if response.status_code == 404:
            raise NotYet(f"DAG {self.dag_id} is not parsed yet")
        return self._json(response)

    def latest_run(self) -> dict | None:
        response = self._send("GET", f"/api/v2/dags/{self.dag_id}/dagRuns", params={"limit": 1})
        runs = self._json(response)["dag_runs"]
        return runs[0] if runs else None

    def trigger(self) -> dict | None:
        """The new run, or None when a run with FIRST_RUN_ID exists already."""
        response = self._send(
            "POST",
            f"/api/v2/dags/{self.dag_id}/dagRuns",
            # logical_date is required and may be null (Airflow 3): "now", like a manual trigger.
            json={"dag_run_id": FIRST_RUN_ID, "logical_date": None, "conf": {}},
        )
        if response.status_code == 409:
            return None
        return self._json(response)

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise NotYet(f"the API server does not answer: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise NotYet(f"the API server answers {response.status_code} on {path}")
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        if response.status_code >= 400:
            raise AirflowRefused(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text[:300]}"
            )
        return response.json()


def wait_for(step, settings: FirstRunSettings, deadline: float, what: str):
    """Calls step() until it stops raising NotYet; TimeoutError after the deadline."""
    while True:
        try:
            return step()
        except NotYet as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what}: {exc}") from exc
            log.info("waiting for %s: %s", what, exc)
            time.sleep(settings.first_run_poll_s)


def first_run(settings: FirstRunSettings, dag_id: str = DAG_ID) -> Outcome:
    """Triggers the DAG's first run unless it has a run already (idempotent)."""
    deadline = time.monotonic() + settings.first_run_wait_s
    api = AirflowApi(settings, dag_id)
    try:
        wait_for(
            api.login, settings, deadline, f"Airflow's API server at {settings.airflow_api_url}"
        )
        dag = wait_for(api.dag, settings, deadline, f"DAG {dag_id}")
        latest = wait_for(api.latest_run, settings, deadline, f"the runs of {dag_id}")
        if latest is not None:
            return Outcome(
                False,
                f"nothing to do: {dag_id} already has a run ({latest['dag_run_id']}, {latest['state']})",
            )
        run = wait_for(api.trigger, settings, deadline, f"a run of {dag_id}")
    finally:
        api.close()
    if run is None:
        return Outcome(False, f"nothing to do: {dag_id} run {FIRST_RUN_ID} exists already")
    paused = (
        " (the DAG is paused: the run waits until it is unpaused)" if dag.get("is_paused") else ""
    )
    return Outcome(
        True,
        f"triggered the first run of {dag_id}: {run['dag_run_id']} ({run['state']}){paused}; "
        "watch it in Airflow's UI",
    )


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per poll is ours; httpx would add one per request.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        outcome = first_run(FirstRunSettings())
    except (TimeoutError, AirflowRefused) as exc:
        log.error("first run not triggered: %s", exc)
        return 1
    log.info(outcome.message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
