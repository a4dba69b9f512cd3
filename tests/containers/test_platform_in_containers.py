"""The platform from its own images, under the pod specs the chart renders, end to end: the
data source serves; MLflow migrates its schema and serves; a worker pod built by the
KubernetesExecutor's code runs project_pipeline to a production model; the API serves it
and logs predictions; the UI shows a prediction in Chromium; Locust's Job passes; every
`helm test` pod passes. Nothing the chart rendered is weakened (see kube_play.py)."""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from browser import chromium, predict_in_page
from chart.chart_render import RELEASE
from kube_play import inspect, wait_http
from servers import REPO
from sqlalchemy import create_engine, text
from sqlalchemy import inspect as inspect_db

SCREENSHOT = REPO / "test-artifacts" / "containers-ui-prediction.png"
# The pipeline's window in the worker pod: ten days of January, about 9,000 flights.
PIPELINE_CONF = {"until": "2013-01-10"}


def host_url(cluster, service: str) -> str:
    """Where a Service of ours answers on the host: its pods publish its port there."""
    port = cluster.find("Service", f"{RELEASE}-{service}")["spec"]["ports"][0]["port"]
    return f"http://127.0.0.1:{port}"


def start(cluster, kind: str, name: str, health: str, timeout: float = 300) -> str:
    """Plays one workload and waits until its Service port answers health; returns its URL."""
    obj = cluster.find(kind, f"{RELEASE}-{name}")
    pod = cluster.play(cluster.as_pod(obj))
    url = host_url(cluster, name)
    wait_http(url + health, timeout, lambda: cluster.logs(cluster.container(pod)))
    return url


def run_to_completion(
    cluster, obj: dict, timeout: float, spec: dict | None = None
) -> tuple[int, str]:
    pod = cluster.play(cluster.as_pod(obj, spec))
    container = cluster.container(pod)
    return cluster.wait_exit(container, timeout), cluster.logs(container)


@pytest.fixture(scope="module")
def data_source(cluster):
    return start(cluster, "Deployment", "data-source", "/health")


@pytest.fixture(scope="module")
def mlflow(cluster):
    code, logs = run_to_completion(
        cluster, cluster.find("Job", f"{RELEASE}-mlflow-db-migrate"), 300
    )
    assert code == 0, logs[-3000:]
    # Its init container auth-setup creates MLflow's permission store on the MySQL first.
    return start(cluster, "Deployment", "mlflow", "/health")


def build_worker_pod(cluster, folder: Path, task_id: str, map_index: int = -1) -> dict:
    """The pod of one task (of one mapped instance) as the KubernetesExecutor builds it from
    the chart's template and config."""
    config = cluster.find("ConfigMap", f"{RELEASE}-config")["data"]
    (folder / "airflow.cfg").write_text(config["airflow.cfg"])
    (folder / "pod_template_file.yaml").write_text(config["pod_template_file.yaml"])
    built = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("worker_pod.py")),
            str(folder / "airflow.cfg"),
            str(folder / "pod_template_file.yaml"),
            "project_pipeline",
            task_id,
            str(map_index),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(folder / "home")},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return json.loads(built.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def worker_pod(cluster, tmp_path_factory) -> dict:
    return build_worker_pod(cluster, tmp_path_factory.mktemp("worker"), "create_raw_tables")


@pytest.fixture(scope="module")
def production_model(cluster, data_source, mlflow, worker_pod):
    """project_pipeline run to a production model inside the worker pod, with every setting
    the chart gives it; only the command differs (the executor's would need a scheduler)."""
    import base64
    from unittest import mock

    from mlflow import MlflowClient

    spec = json.loads(json.dumps(worker_pod["spec"]))
    conf = json.dumps(PIPELINE_CONF)
    spec["containers"][0]["args"] = [
        "bash",
        "-c",
        f"airflow db migrate && airflow dags test --conf '{conf}' project_pipeline",
    ]
    obj = {"kind": "Pod", "metadata": worker_pod["metadata"]}
    started = time.monotonic()
    code, logs = run_to_completion(cluster, obj, 1500, spec)
    assert code == 0, logs[-6000:]
    # MLflow runs with basic-auth: read as the chart's reader user.
    users = cluster.find("Secret", "proyecto4-mlflow-auth")["data"]
    reader = {
        f"MLFLOW_TRACKING_{field.upper()}": base64.b64decode(users[f"reader-{field}"]).decode()
        for field in ("username", "password")
    }
    with mock.patch.dict(os.environ, reader):
        version = MlflowClient(mlflow).get_model_version_by_alias("flight-delay", "production")
    return {"version": str(version.version), "seconds": time.monotonic() - started, "logs": logs}


@pytest.fixture(scope="module")
def api(cluster, production_model):
    return start(cluster, "Deployment", "inference-api", "/ready")


@pytest.fixture(scope="module")
def ui(cluster, api):
    return start(cluster, "Deployment", "streamlit", "/_stcore/health")


def readme_example() -> dict:
    """The body of the README's curl example of /predict/."""
    readme = (REPO / "README.md").read_text()
    body = re.search(r"curl -s -X POST '[^']*/predict/[^']*'.*?-d '(\{.*?\})'", readme, re.DOTALL)
    assert body, "README has no /predict/ curl example"
    return json.loads(body.group(1))


def test_the_worker_pod_is_a_valid_pod_of_our_image(worker_pod, cluster):
    import kubernetes_validate

    kubernetes_validate.validate(worker_pod, "1.31.0", strict=True)
    container = worker_pod["spec"]["containers"][0]
    airflow_image = cluster.find("Deployment", f"{RELEASE}-scheduler")["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    assert container["image"] == airflow_image
    assert worker_pod["spec"]["securityContext"]["runAsUser"] == 50000


def test_the_data_source_container_serves_a_day(data_source):
    answer = httpx.get(f"{data_source}/data", params={"group": 1, "date": "2013-01-02"}, timeout=60)
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == len(body["rows"]) > 500


def test_the_airflow_image_runs_the_pipeline_to_a_production_model(production_model):
    assert int(production_model["version"]) >= 1
    assert "project_pipeline" in production_model["logs"]


def test_the_api_container_answers_the_readme_example_and_logs_it(api, production_model, databases):
    answer = httpx.post(f"{api}/predict/", json=readme_example(), timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["category"] in ("on time", "delayed")
    assert str(body["model_version"]) == production_model["version"]
    # The API writes off the request path and creates its table with the first rows.
    engine = create_engine(databases["data"])
    deadline = time.monotonic() + 30
    logged = []
    while time.monotonic() < deadline and not logged:
        time.sleep(1)
        with engine.connect() as conn:
            if inspect_db(conn).has_table("inference_log"):
                logged = (
                    conn.execute(text("SELECT model_version FROM inference_log")).scalars().all()
                )
    engine.dispose()
    assert logged == [production_model["version"]]


def test_the_api_container_runs_as_rendered(cluster, api):
    rendered = cluster.find("Deployment", f"{RELEASE}-inference-api")["spec"]["template"]["spec"]
    container = inspect(cluster.container(f"{RELEASE}-inference-api"))
    assert container["Config"]["User"].split(":")[0] == str(
        rendered["securityContext"]["runAsUser"]
    )
    assert container["HostConfig"]["ReadonlyRootfs"] is True
    assert container["EffectiveCaps"] in (None, [])


def test_the_ui_container_shows_a_prediction(ui, tmp_path):
    with chromium(tmp_path / "profile") as driver:
        category = predict_in_page(driver, ui, SCREENSHOT)
    assert category in ("on time", "delayed")
    assert SCREENSHOT.read_bytes().startswith(b"\x89PNG")


def test_the_locust_job_passes_its_thresholds_against_the_api_container(cluster, api):
    job = next(
        o
        for o in cluster.objects
        if o["kind"] == "Job" and o["metadata"]["name"].startswith(f"{RELEASE}-locust-headless")
    )
    code, logs = run_to_completion(cluster, job, 600)
    assert code == 0, logs[-4000:]
    assert "Aggregated" in logs


def test_every_helm_test_pod_passes(cluster, api, ui, data_source, mlflow):
    test_pods = [
        o
        for o in cluster.objects
        if o["kind"] == "Pod" and o["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
    ]
    assert len(test_pods) >= 4
    for pod in test_pods:
        code, logs = run_to_completion(cluster, pod, 120)
        assert code == 0, f"{pod['metadata']['name']}: {logs[-2000:]}"


def test_no_server_restarted_along_the_way(cluster, api, ui, data_source, mlflow):
    """A server that crashed or was OOM-killed under its limits restarts unnoticed: count them."""
    restarts = {
        name: inspect(cluster.container(name))["RestartCount"]
        for name in (
            f"{RELEASE}-{service}"
            for service in ("data-source", "mlflow", "inference-api", "streamlit")
        )
    }
    assert restarts == dict.fromkeys(restarts, 0)


def test_the_first_run_job_starts_in_the_airflow_image_and_says_why_it_gave_up(cluster):
    """The install-time trigger runs from our Airflow image under its rendered pod spec (read-only
    root, uid 50000) as far as its wait for Airflow's API server, which these tests do not run:
    it must give up with its one clear line, not crash on a missing module or a read-only path."""
    code, logs = run_to_completion(cluster, cluster.find("Job", f"{RELEASE}-first-run"), 300)
    assert code == 1, logs[-3000:]
    assert "first run not triggered" in logs
    assert "Traceback" not in logs


# The tuning workers' study: prepared once, then filled by both pods at the same time.
TUNING_STUDY = "container-test-tune-auroc"
TUNING_WORKERS = 2


def _running_python(cluster, pod: dict, code: str) -> tuple[dict, dict]:
    """`pod` (name, labels) and its spec running `code` with the DAGs folder on the path, as
    the task would import it; only the command and that variable differ from what the
    executor builds (two tuning workers come from values-containers.yaml)."""
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(cluster.find("ConfigMap", f"{RELEASE}-config")["data"]["airflow.cfg"])
    spec = json.loads(json.dumps(pod["spec"]))
    container = spec["containers"][0]
    container["args"] = ["python", "-c", code]
    container["env"] = [
        *container.get("env", []),
        {"name": "PYTHONPATH", "value": config["core"]["dags_folder"]},
    ]
    return {"kind": "Pod", "metadata": pod["metadata"]}, spec


def test_two_mapped_worker_pods_tune_one_study_to_its_budget(
    cluster, production_model, databases, tmp_path_factory
):
    """tune_auroc's two mapped pods, built as the KubernetesExecutor builds them from the
    chart's pod template, tune at the same time on one study in the data database (schema
    `optuna`): together they run the study's budget, each trial numbered once, none left
    RUNNING. (Which pod ran which trial depends on when each started: not asserted.)"""
    import optuna

    folder = tmp_path_factory.mktemp("tuning")
    pods = [build_worker_pod(cluster, folder, "tune_auroc", index) for index in range(2)]
    assert len({p["metadata"]["name"] for p in pods}) == 2
    settings = "from pipeline.settings import PipelineSettings as S; "
    prepare, prepare_spec = _running_python(
        cluster,
        {**pods[0], "metadata": {**pods[0]["metadata"], "name": "prepare-tuning-auroc"}},
        settings + "from pipeline.tuning import prepare_tuning; "
        f"print(prepare_tuning(S(), 'auroc', {TUNING_STUDY!r}))",
    )
    code, logs = run_to_completion(cluster, prepare, 300, prepare_spec)
    assert code == 0, logs[-3000:]
    assert "[[0], [1]]" in logs  # one slot per mapped pod
    started = []
    for index, pod in enumerate(pods):
        obj, spec = _running_python(
            cluster,
            pod,
            settings + "from pipeline.tuning import run_workers; "
            f"print(run_workers(S(), 'auroc', {TUNING_STUDY!r}, [{index}]))",
        )
        started.append(cluster.play(cluster.as_pod(obj, spec)))
    for name in started:
        container = cluster.container(name)
        assert cluster.wait_exit(container, 900) == 0, cluster.logs(container)[-3000:]
    url = databases["data"].update_query_dict({"options": "-csearch_path=optuna"})
    study = optuna.load_study(
        study_name=TUNING_STUDY, storage=url.render_as_string(hide_password=False)
    )
    finished = [
        t
        for t in study.trials
        if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    ]
    budget = study.user_attrs["trial_budget"]
    assert len(finished) == budget >= TUNING_WORKERS
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    assert len({t.number for t in study.trials}) == len(study.trials)
    assert {t.user_attrs.get("worker") for t in finished} <= {0, 1}
