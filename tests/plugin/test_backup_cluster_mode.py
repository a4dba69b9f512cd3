"""Cluster mode of backup/restore without a cluster: the restore Job the plugin builds from
the chart's own rendered CronJob, and which workloads count as writers."""

from __future__ import annotations

import kubernetes_validate
import pytest
from chart.chart_render import find, render_chart
from proyecto4_plugin import release as parts
from proyecto4_plugin.backup import ACTION_ENV, ID_ENV, restore_job
from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.names import BACKUP_COMPONENT, BACKUP_STEPS, RESTORE_STEPS

BACKUP_ID = "20260102T030405Z"
# The Kubernetes version tests/chart validates the chart against.
KUBERNETES_VERSION = "1.31.0"


@pytest.fixture(scope="module")
def cronjob() -> dict:
    return find(
        render_chart(show_only="templates/backup-cronjob.yaml"), "CronJob", "proyecto4-backup"
    )


def test_restore_job_runs_the_cronjobs_containers_in_restore_order(cronjob):
    job = restore_job(cronjob, "proyecto4-backup-restore-1", BACKUP_ID)
    spec = job["spec"]["template"]["spec"]
    source = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert [c["name"] for c in [*source["initContainers"], *source["containers"]]] == list(
        BACKUP_STEPS
    )
    assert [c["name"] for c in [*spec["initContainers"], *spec["containers"]]] == list(
        RESTORE_STEPS
    )
    originals = {c["name"]: c for c in [*source["initContainers"], *source["containers"]]}
    for container in [*spec["initContainers"], *spec["containers"]]:
        original = originals[container["name"]]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env[ACTION_ENV] == "restore" and env[ID_ENV] == BACKUP_ID
        assert container["env"][: len(original["env"])] == original["env"]
        for key in ("image", "command", "securityContext", "resources", "volumeMounts"):
            assert container[key] == original[key], key
    for key in ("securityContext", "volumes", "automountServiceAccountToken"):
        assert spec[key] == source[key], key
    assert spec["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] == 0
    # The backup pod's labels: its NetworkPolicy lets the restore reach the servers too.
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == BACKUP_COMPONENT
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    # The CronJob itself is untouched.
    assert source["containers"][0]["name"] == BACKUP_STEPS[-1]


def test_restore_job_refuses_a_cronjob_without_the_steps(cronjob):
    broken = {
        **cronjob,
        "spec": {
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "objects"}]}}}}
        },
    }
    with pytest.raises(PluginError, match="has no container postgresql, mysql"):
        restore_job(broken, "x", BACKUP_ID)


def _workload(kind: str, name: str, **labels: str) -> dict:
    return {"kind": kind, "metadata": {"name": name, "labels": labels}, "spec": {"replicas": 1}}


def test_writers_are_the_api_ui_mlflow_and_airflows_servers():
    objects = [
        _workload("Deployment", "r-inference-api", **{"app.kubernetes.io/name": "inference-api"}),
        _workload("Deployment", "r-streamlit", **{"app.kubernetes.io/name": "streamlit"}),
        _workload("Deployment", "r-mlflow", **{"app.kubernetes.io/name": "mlflow"}),
        _workload("Deployment", "r-data-source", **{"app.kubernetes.io/name": "data-source"}),
        _workload("Deployment", "r-scheduler", component="scheduler", release="r"),
        _workload("Deployment", "r-dag-processor", component="dag-processor", release="r"),
        _workload("Deployment", "r-api-server", component="api-server", release="r"),
        _workload("StatefulSet", "r-postgresql", **{"app.kubernetes.io/name": "postgresql"}),
        _workload("Deployment", "r-grafana", **{"app.kubernetes.io/name": "grafana"}),
    ]
    assert {w["metadata"]["name"] for w in parts.writers(objects)} == {
        "r-inference-api",
        "r-streamlit",
        "r-mlflow",
        "r-scheduler",
        "r-dag-processor",
        "r-api-server",
    }


def test_the_backup_cronjob_is_found_by_its_component_label(cronjob):
    other = {"kind": "CronJob", "metadata": {"name": "x", "labels": {}}}
    assert parts.backup_cronjob([other, cronjob], "proyecto4") is cronjob
    with pytest.raises(PluginError, match=r"set backup\.enabled=true"):
        parts.backup_cronjob([other], "proyecto4")
