"""helm proyecto4 backup / restore.

Cluster mode drives the chart's backup CronJob: `backup` starts a Job from it now, the way
`kubectl create job --from=cronjob/...` does; `restore` scales the writers to zero, runs
the same pod with its containers in restore order (fetch the backup, then load PostgreSQL,
then MySQL), scales the writers back and checks that the API serves `production`.
URL mode dumps and loads the stores from this machine (stores.py).
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from proyecto4_plugin import airflow as airflow_api
from proyecto4_plugin import promotion
from proyecto4_plugin import release as parts
from proyecto4_plugin.endpoints import Endpoints
from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.kube import Cluster
from proyecto4_plugin.names import BACKUP_ID_FORMAT, PRODUCTION_ALIAS, RESTORE_STEPS
from proyecto4_plugin.registry import Registry
from proyecto4_plugin.stores import (
    Location,
    Stores,
    load_backup,
    make_backup,
    new_backup_id,
    read_manifest,
    split_backup_url,
)

POLL_S = 3.0
# The pod's environment that tells the chart's script what to do (files/backup/backup.sh).
ACTION_ENV, ID_ENV = "BACKUP_ACTION", "BACKUP_ID"


# -- URL mode ----------------------------------------------------------------------------


def backup_urls(stores: Stores, to: str | None, endpoint: str | None, out) -> int:
    if not to:
        raise PluginError(
            "URL mode needs --to: a folder or s3://bucket/prefix to write the backup to"
        )
    location = Location(to, endpoint)
    backup_id = new_backup_id()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proyecto4-stage-") as stage:
        folder = Path(stage) / backup_id if location.bucket else Path(to) / backup_id
        if folder.exists():
            raise PluginError(f"{folder} exists already")
        report = make_backup(stores, folder, backup_id, made_by="helm proyecto4 backup (URL mode)")
        if location.bucket:
            location.upload(folder)
    total = time.monotonic() - began
    print(f"backup {backup_id} -> {location.describe(backup_id)} in {total:.1f} s", file=out)
    for line in report.lines():
        print(line, file=out)
    return 0


def restore_urls(
    stores: Stores, source: str, endpoints: Endpoints, endpoint: str | None, out
) -> int:
    location, backup_id = split_backup_url(source, endpoint)
    began = time.monotonic()
    targets = endpoints.targets
    with tempfile.TemporaryDirectory(prefix="proyecto4-fetch-") as stage:
        folder = location.download(backup_id, Path(stage)) if location.bucket else Path(source)
        manifest = read_manifest(folder)
        # Writers this mode cannot stop (API, UI, MLflow): the operator stops them; the DAG
        # is paused here when Airflow is named, and left as the restored metadata says.
        if targets.airflow_url:
            airflow_api.set_paused(endpoints.service("airflow"), True)
            print(f"paused the DAG at {targets.airflow_url}", file=out)
        report = load_backup(stores, folder)
    total = time.monotonic() - began
    print(f"restored {backup_id} (made {manifest['started_at']}) in {total:.1f} s", file=out)
    for line in report.lines():
        print(line, file=out)
    if targets.mlflow_url:
        check_production(endpoints, out)
    return 0


# -- cluster mode ------------------------------------------------------------------------


def _job_name(base: str, kind: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"{base[: 63 - len(kind) - len(stamp) - 2]}-{kind}-{stamp}"


def wait_for_job(cluster: Cluster, name: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = cluster.get_json("get", "job", name).get("status", {})
        if status.get("succeeded") or status.get("failed"):
            return status
        if time.monotonic() > deadline:
            raise PluginError(
                f"job {name} did not finish in {timeout:g} s; see kubectl logs job/{name}"
            )
        time.sleep(POLL_S)


def job_logs(cluster: Cluster, name: str) -> str:
    return cluster.run(cluster.kubectl("logs", f"job/{name}", "--all-containers", "--prefix"))


def backup_in_cluster(endpoints: Endpoints, timeout: float, out) -> int:
    release, cluster = endpoints.release(), endpoints.cluster
    cronjob = parts.backup_cronjob(endpoints.objects(), release)
    name = _job_name(cronjob["metadata"]["name"], "manual")
    began = time.monotonic()
    cluster.run(
        cluster.kubectl("create", "job", f"--from=cronjob/{cronjob['metadata']['name']}", name)
    )
    print(f"job {name} started from cronjob/{cronjob['metadata']['name']}", file=out)
    status = wait_for_job(cluster, name, timeout)
    print(job_logs(cluster, name).rstrip(), file=out)
    if status.get("failed"):
        raise PluginError(f"backup job {name} failed (its log is above)")
    print(f"backup job {name} succeeded in {time.monotonic() - began:.0f} s", file=out)
    return 0


def restore_job(cronjob: dict, name: str, backup_id: str) -> dict:
    """A Job running the backup CronJob's pod in restore order, for backup `backup_id`."""
    template = copy.deepcopy(cronjob["spec"]["jobTemplate"]["spec"]["template"])
    pod = template["spec"]
    steps = {c["name"]: c for c in [*pod.get("initContainers", []), *pod["containers"]]}
    missing = [step for step in RESTORE_STEPS if step not in steps]
    if missing:
        raise PluginError(
            f"cronjob {cronjob['metadata']['name']} has no container {', '.join(missing)}"
        )
    ordered = [steps[step] for step in RESTORE_STEPS]
    for container in ordered:
        env = [e for e in container.get("env", []) if e["name"] not in (ACTION_ENV, ID_ENV)]
        container["env"] = [
            *env,
            {"name": ACTION_ENV, "value": "restore"},
            {"name": ID_ENV, "value": backup_id},
        ]
    pod["initContainers"], pod["containers"] = ordered[:-1], ordered[-1:]
    pod["restartPolicy"] = "Never"
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "labels": {**labels, "app.kubernetes.io/managed-by": "helm-proyecto4"},
        },
        "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 86400, "template": template},
    }


def _selector(workload: dict) -> str:
    labels = workload["spec"]["selector"]["matchLabels"]
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def scale(cluster: Cluster, workloads: dict[str, int]) -> None:
    for resource, replicas in workloads.items():
        cluster.run(cluster.kubectl("scale", resource, f"--replicas={replicas}"))


def wait_for_no_pods(cluster: Cluster, selectors: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for selector in selectors:
        while cluster.get_json("get", "pods", "-l", selector)["items"]:
            if time.monotonic() > deadline:
                raise PluginError(f"pods {selector} still running after {timeout:g} s")
            time.sleep(POLL_S)


def check_production(endpoints: Endpoints, out) -> None:
    """`production` in the restored registry, and every API replica serving it."""
    registry = Registry(endpoints.mlflow(), endpoints.targets.model_name)
    current = registry.production()
    if current is None:
        raise PluginError(f"the restored registry has no {registry.model_name}@{PRODUCTION_ALIAS}")
    print(f"{registry.model_name}@{PRODUCTION_ALIAS}: v{current['version']}", file=out)
    if not (endpoints.targets.api_url or endpoints.targets.release):
        return  # URL mode without --api-url: nothing serves the model here
    for line in promotion.reload_and_check(endpoints.api_replicas(), current["version"]):
        print(line, file=out)


def restore_in_cluster(endpoints: Endpoints, backup_id: str, timeout: float, out) -> int:
    release, cluster = endpoints.release(), endpoints.cluster
    objects = endpoints.objects()
    cronjob = parts.backup_cronjob(objects, release)
    if backup_id != "latest":
        try:
            datetime.strptime(backup_id, BACKUP_ID_FORMAT)
        except ValueError:
            raise PluginError(
                f"--from {backup_id!r} is not a backup id like 20260102T030405Z (or latest)"
            ) from None
    task_pods = ",".join(
        [f"release={release}", *(f"{k}={v}" for k, v in parts.AIRFLOW_TASK_POD_LABELS.items())]
    )
    if cluster.get_json("get", "pods", "-l", task_pods, "--field-selector=status.phase=Running")[
        "items"
    ]:
        raise PluginError(
            "Airflow tasks are running: wait for the DAG run to end (or pause the DAG) first"
        )
    began = time.monotonic()
    writers = {
        f"{w['kind'].lower()}/{w['metadata']['name']}": w["spec"].get("replicas", 1)
        for w in parts.writers(objects)
    }
    print(
        f"stopping writers: {', '.join(f'{r} ({n})' for r, n in writers.items()) or 'none'}",
        file=out,
    )
    scale(cluster, dict.fromkeys(writers, 0))
    wait_for_no_pods(cluster, [_selector(w) for w in parts.writers(objects)], timeout)
    name = _job_name(cronjob["metadata"]["name"], "restore")
    cluster.run(
        cluster.kubectl("create", "-f", "-"),
        stdin=json.dumps(restore_job(cronjob, name, backup_id)),
    )
    print(f"job {name} restores backup {backup_id}", file=out)
    status = wait_for_job(cluster, name, timeout)
    print(job_logs(cluster, name).rstrip(), file=out)
    if status.get("failed"):
        again = " ".join(f"{r}={n}" for r, n in writers.items())
        raise PluginError(
            f"restore job {name} failed (log above); the writers stay stopped: fix and run restore "
            f"again, or start them with kubectl scale ({again})"
        )
    scale(cluster, writers)
    for resource in writers:
        cluster.run(cluster.kubectl("rollout", "status", resource, f"--timeout={int(timeout)}s"))
    print(f"writers started again; restore took {time.monotonic() - began:.0f} s", file=out)
    check_production(endpoints, out)
    return 0
