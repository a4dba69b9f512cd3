"""`helm proyecto4 loadtest` in cluster mode runs the chart's own headless Locust Job: the Job
it creates is the one chart/locust renders in `mode: headless` for the same users, spawn
rate and duration, found by the labels the chart really renders (render_chart)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chart.chart_render import render_chart
from helm_plugin_env import REPO
from proyecto4_plugin import loadtest, release

STANDINS = REPO / "tests/plugin/standins"
HEADLESS_JOB = "charts/locust/templates/job-headless.yaml"
RUN = {"users": 7, "spawn_rate": 2.5, "duration": "1m30s"}


def distributed(name: str) -> list[dict]:
    """The release as installed: Locust on, in its default distributed mode."""
    return render_chart(release=name, values={"locust": {"enabled": True}})


def headless_job(name: str) -> dict:
    """What the chart renders as its headless Job for RUN's users, spawn rate and duration."""
    headless = {"users": RUN["users"], "spawnRate": RUN["spawn_rate"], "runTime": RUN["duration"]}
    values = {"locust": {"enabled": True, "mode": "headless", "headless": headless}}
    (job,) = render_chart(release=name, values=values, show_only=HEADLESS_JOB)
    return job


@pytest.mark.parametrize("name", ["proyecto4", "mlflow-demo"])
def test_the_plugin_job_is_the_chart_headless_job(name):
    template = release.loadtest_job(distributed(name), name)
    job = loadtest.job_manifest(template, RUN["users"], RUN["spawn_rate"], RUN["duration"], "x")
    expected = headless_job(name)

    assert job["metadata"].pop("name") == "x"
    expected["metadata"].pop("name")
    assert job == expected


def test_the_job_is_found_by_the_rendered_labels_of_its_own_release_only():
    objects = distributed("proyecto4") + distributed("mlflow-demo")
    found = release.loadtest_job(objects, "mlflow-demo")
    assert found["metadata"]["labels"]["app.kubernetes.io/instance"] == "mlflow-demo"
    assert found["spec"]["template"]["spec"]["serviceAccountName"].startswith("mlflow-demo-")


def test_a_release_without_locust_has_no_job():
    with pytest.raises(loadtest.PluginError, match="no Locust load-test Job"):
        release.loadtest_job(render_chart(release="proyecto4"), "proyecto4")


def test_cluster_mode_creates_the_chart_job_and_prints_its_summary(tmp_path):
    # The stand-in kubectl answers from the objects the chart renders for release r; the
    # stand-in helm knows no release (Argo CD): the release is found by its objects alone.
    (tmp_path / "cluster.json").write_text(
        json.dumps({"objects": distributed("r"), "forwards": {}})
    )
    log = tmp_path / "calls.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "plugin"),
        "HELM_NAMESPACE": "team-a",
        "HELM_BIN": str(STANDINS / "helm"),
        "KUBECTL": str(STANDINS / "kubectl"),
        "STANDIN_CLUSTER": str(tmp_path / "cluster.json"),
        "STANDIN_LOG": str(log),
    }
    args = ["--users", str(RUN["users"]), "--spawn-rate", str(RUN["spawn_rate"])]
    done = subprocess.run(
        [sys.executable, "-m", "proyecto4_plugin", "loadtest", "r", *args, "--duration", "1m30s"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    (job,) = json.loads(Path(f"{log}.created.json").read_text())
    name = job["metadata"].pop("name")
    expected = headless_job("r")
    expected["metadata"].pop("name")
    assert job == expected
    assert f"standin logs of job/{name}" in done.stdout
    made = log.read_text().splitlines()
    assert any(call.endswith(f"delete job {name} --wait=false --ignore-not-found") for call in made)
    assert not [call for call in made if call.startswith("helm ")]
