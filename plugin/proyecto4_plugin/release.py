"""A release's live parts: the service of each component, the workloads and their readiness.

Components are recognised by labels, so the plugin follows whatever names the chart
gives its objects: our subcharts set the standard `app.kubernetes.io/name`, the Apache
Airflow chart labels its pods with `component`.
"""

from __future__ import annotations

import json

from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.names import BACKUP_COMPONENT

COMPONENT_LABELS: dict[str, tuple[dict[str, str], ...]] = {
    "api": ({"app.kubernetes.io/name": "inference-api"},),
    "mlflow": ({"app.kubernetes.io/name": "mlflow"},),
    "airflow": ({"component": "api-server"}, {"component": "webserver"}),
    "locust": ({"app.kubernetes.io/name": "locust"},),
}
COMPONENT_TITLES = {
    "api": "inference API",
    "mlflow": "MLflow",
    "airflow": "Airflow API server",
    "locust": "Locust",
}
# The ConfigMap holding the chart's headless Locust Job (chart/locust, configmap-loadtest-job.yaml).
LOADTEST_JOB = {"app.kubernetes.io/name": "locust", "app.kubernetes.io/component": "loadtest-job"}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# What the plugin looks up of a release, in kubectl's notation.
RELEASE_KINDS = "services,deployments,statefulsets,daemonsets,jobs,cronjobs"
# The ConfigMap describing the release (templates/configmap-release.yaml): the names the
# chart resolved from the release's values, which the plugin reads there rather than from
# Helm (a release Argo CD installs with `helm template` has no Helm record).
RELEASE_FACTS = {"app.kubernetes.io/component": "release-facts"}
# Its keys: the Airflow admin's user name and the Secret with its password (key `password`);
# the Secret of MLflow's users (admin-username/admin-password). Absent when the component
# (or MLflow's basic-auth) is off.
AIRFLOW_ADMIN_USERNAME = "airflowAdminUsername"
AIRFLOW_ADMIN_SECRET = "airflowAdminSecretName"
MLFLOW_AUTH_SECRET = "mlflowAuthSecretName"


def release_facts_labels(release: str) -> dict[str, str]:
    return {"app.kubernetes.io/instance": release, **RELEASE_FACTS}


def _labels(obj: dict) -> dict[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


def find_objects(objects: list[dict], kind: str, component: str) -> list[dict]:
    """Objects of `kind` that belong to `component`, by the first label set that matches."""
    of_kind = [obj for obj in objects if obj.get("kind") == kind]
    for wanted in COMPONENT_LABELS[component]:
        found = [obj for obj in of_kind if wanted.items() <= _labels(obj).items()]
        if found:
            return found
    return []


def service_port(service: dict) -> int:
    """The service's HTTP port: the one named `http`, else the first."""
    ports = service.get("spec", {}).get("ports") or []
    if not ports:
        raise PluginError(f"service {service['metadata']['name']} exposes no port")
    named = [p for p in ports if p.get("name") == "http"]
    return int((named or ports)[0]["port"])


def component_service(objects: list[dict], component: str, release: str) -> dict:
    """The component's ClusterIP service (not a headless one), or a clear error."""
    services = [
        svc
        for svc in find_objects(objects, "Service", component)
        if svc.get("spec", {}).get("clusterIP") != "None"
    ]
    if not services:
        raise PluginError(
            f"release {release} has no {COMPONENT_TITLES[component]} service "
            f"(is the component enabled in its values?)"
        )
    return services[0]


def secret_env_ref(workloads: list[dict], variable: str) -> dict | None:
    """The secretKeyRef ({name, key}) a workload's container reads `variable` from."""
    for workload in workloads:
        pod = workload.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers") or []:
            for item in container.get("env") or []:
                ref = (item.get("valueFrom") or {}).get("secretKeyRef")
                if item.get("name") == variable and ref:
                    return ref
    return None


def selector(labels: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in labels.items())


def loadtest_job_labels(release: str) -> dict[str, str]:
    return {**LOADTEST_JOB, "app.kubernetes.io/instance": release}


def loadtest_job(objects: list[dict], release: str) -> dict:
    """The headless Locust Job the release's chart rendered for `helm proyecto4 loadtest`."""
    wanted = loadtest_job_labels(release).items()
    found = [o for o in objects if o.get("kind") == "ConfigMap" and wanted <= _labels(o).items()]
    if not found:
        raise PluginError(
            f"release {release} has no Locust load-test Job (set locust.enabled=true)"
        )
    return json.loads(found[0]["data"]["job.json"])


def workloads(objects: list[dict]) -> list[dict]:
    found = [obj for obj in objects if obj.get("kind") in WORKLOAD_KINDS]
    return sorted(found, key=lambda obj: (obj["kind"], obj["metadata"]["name"]))


def readiness(live: dict) -> tuple[int, int]:
    """(ready, wanted) replicas of a live Deployment, StatefulSet or DaemonSet."""
    status = live.get("status", {})
    if live.get("kind") == "DaemonSet":
        return status.get("numberReady", 0), status.get("desiredNumberScheduled", 0)
    return status.get("readyReplicas", 0), live.get("spec", {}).get("replicas", 1)


def is_ready_pod(pod: dict) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_port(pod: dict, target_port: int | str) -> int:
    """A service's targetPort on one pod: numbers as they are, names via the containers."""
    if isinstance(target_port, int) or str(target_port).isdigit():
        return int(target_port)
    for container in pod.get("spec", {}).get("containers", []):
        for port in container.get("ports") or []:
            if port.get("name") == target_port:
                return int(port["containerPort"])
    raise PluginError(f"pod {pod['metadata']['name']} has no port named {target_port}")


# Workloads that write to the stores a restore replaces (inference_log, the registry, the
# DAG's tables and Airflow's metadata): scaled to zero while it runs. The Airflow chart
# labels its objects with `component`, ours with app.kubernetes.io/name.
WRITER_LABELS: tuple[dict[str, str], ...] = (
    {"app.kubernetes.io/name": "inference-api"},
    {"app.kubernetes.io/name": "streamlit"},
    {"app.kubernetes.io/name": "mlflow"},
    {"component": "scheduler"},
    {"component": "dag-processor"},
    {"component": "triggerer"},
    {"component": "api-server"},
)
# Labels of the Airflow chart's KubernetesExecutor task pods: a restore waits for none.
AIRFLOW_TASK_POD_LABELS = {"component": "worker"}


def writers(objects: list[dict]) -> list[dict]:
    """The release's Deployments and StatefulSets that write to its stores."""
    return [
        obj
        for obj in workloads(objects)
        if obj["kind"] in ("Deployment", "StatefulSet")
        and any(wanted.items() <= _labels(obj).items() for wanted in WRITER_LABELS)
    ]


def backup_cronjob(objects: list[dict], release: str) -> dict:
    """The release's backup CronJob (app.kubernetes.io/component=backup)."""
    found = [
        obj
        for obj in objects
        if obj.get("kind") == "CronJob"
        and _labels(obj).get("app.kubernetes.io/component") == BACKUP_COMPONENT
    ]
    if not found:
        raise PluginError(f"release {release} has no backup CronJob (set backup.enabled=true)")
    return found[0]
