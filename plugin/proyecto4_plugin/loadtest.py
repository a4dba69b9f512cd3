"""helm proyecto4 loadtest: a headless Locust run against the inference API, with its summary.

Cluster mode runs it as a Kubernetes Job built from the release's own Locust workload
(same image, environment and security settings) so it reaches the API inside the cluster;
URL mode runs the local `locust` with the given locustfile.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from datetime import datetime, timezone

from proyecto4_plugin import release as parts
from proyecto4_plugin.endpoints import Endpoints
from proyecto4_plugin.errors import PluginError

LOCUSTFILE_IN_IMAGE = "/app/loadtest/locustfile.py"
# Settings that would turn the headless run into a distributed master or worker.
DISTRIBUTED_ENV = re.compile(r"^LOCUST_(MODE_|MASTER|EXPECT_WORKERS|WEB|AUTOSTART|AUTOQUIT)")
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
POLL_S = 2.0


def duration_seconds(text: str) -> int:
    """Locust's --run-time format (`90s`, `5m`, `1h30m`) in seconds."""
    match = DURATION.match(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise PluginError(f"duration {text!r} is not like 30s, 5m or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def locust_args(host: str, users: int, spawn_rate: float, duration: str) -> list[str]:
    return [
        "--headless",
        "--only-summary",
        "--users",
        str(users),
        "--spawn-rate",
        f"{spawn_rate:g}",
        "--run-time",
        duration,
        "--host",
        host,
    ]


def _pod_spec(workload: dict) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def job_manifest(release: str, workload: dict, args: list[str], name: str) -> dict:
    """A one-off Job running the release's Locust image headless with `args`."""
    pod = _pod_spec(workload)
    base = pod["containers"][0]
    container = {
        "name": "locust",
        "image": base["image"],
        "command": ["locust", "-f", LOCUSTFILE_IN_IMAGE, *args],
        "env": [e for e in base.get("env", []) if not DISTRIBUTED_ENV.match(e["name"])],
    }
    for key in ("envFrom", "imagePullPolicy", "securityContext", "resources"):
        if key in base:
            container[key] = base[key]
    pod_spec = {"restartPolicy": "Never", "containers": [container]}
    for key in ("securityContext", "imagePullSecrets", "serviceAccountName"):
        if key in pod:
            pod_spec[key] = pod[key]
    labels = {
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/name": "locust",
        "app.kubernetes.io/component": "loadtest",
        "app.kubernetes.io/managed-by": "helm-proyecto4",
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 3600,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def locust_workload(objects: list[dict], release: str) -> dict:
    for kind in ("Deployment", "Job", "CronJob"):
        found = parts.find_objects(objects, kind, "locust")
        if found:
            return found[0]
    raise PluginError(f"release {release} has no Locust workload (set locust.enabled=true)")


def run_in_cluster(endpoints: Endpoints, users: int, spawn_rate: float, duration: str, out) -> int:
    release, cluster = endpoints.release(), endpoints.cluster
    objects = endpoints.objects()
    service = parts.component_service(objects, "api", release)
    host = f"http://{service['metadata']['name']}:{parts.service_port(service)}"
    name = f"{release}-loadtest-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"[:63]
    job = job_manifest(
        release,
        locust_workload(objects, release),
        locust_args(host, users, spawn_rate, duration),
        name,
    )
    cluster.run(cluster.kubectl("create", "-f", "-"), stdin=json.dumps(job))
    print(f"job {name}: {users} users for {duration} against {host}", file=out)
    deadline = time.monotonic() + duration_seconds(duration) + 300
    try:
        while True:
            status = cluster.get_json("get", "job", name).get("status", {})
            if status.get("succeeded") or status.get("failed"):
                break
            if time.monotonic() > deadline:
                raise PluginError(f"job {name} did not finish in time; see kubectl logs job/{name}")
            time.sleep(POLL_S)
        print(cluster.run(cluster.kubectl("logs", f"job/{name}")), file=out)
    finally:
        cluster.run(cluster.kubectl("delete", "job", name, "--wait=false", "--ignore-not-found"))
    if status.get("failed"):
        raise PluginError(f"load test job {name} failed (limits broken or error, summary above)")
    return 0


def run_locally(
    api_url: str, locustfile: str | None, users: int, spawn_rate: float, duration: str, out
) -> int:
    locust = shutil.which("locust")
    if not locust:
        raise PluginError("URL mode runs the local locust, which is not on PATH")
    if not locustfile:
        raise PluginError(
            "URL mode needs --locustfile (e.g. services/locust/loadtest/locustfile.py)"
        )
    duration_seconds(duration)
    done = subprocess.run(
        [locust, "-f", locustfile, *locust_args(api_url, users, spawn_rate, duration)],
        stdout=out,
        stderr=subprocess.STDOUT,
        check=False,
    )
    if done.returncode != 0:
        raise PluginError(
            f"locust exited with {done.returncode} (limits broken or error, summary above)"
        )
    return 0
