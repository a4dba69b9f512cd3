"""helm proyecto4 loadtest: a headless Locust run against the inference API, with its summary.

Cluster mode runs the chart's own headless Job (chart/locust/templates/_headless-job.tpl,
which the release carries rendered in its `loadtest-job` ConfigMap, since Helm keeps no
subchart to render again) with this run's users, spawn rate and duration; URL mode runs the
local `locust` with the given locustfile.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import time
from datetime import datetime, timezone

from proyecto4_plugin import release as parts
from proyecto4_plugin.endpoints import Endpoints
from proyecto4_plugin.errors import PluginError

# The flags of the chart's headless Job this command sets.
JOB_FLAGS = ("--users", "--spawn-rate", "--run-time")
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


def job_manifest(template: dict, users: int, spawn_rate: float, duration: str, name: str) -> dict:
    """The chart's headless Job named `name`, running `users` for `duration`."""
    job = copy.deepcopy(template)
    job["metadata"]["name"] = name
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    for flag, value in zip(JOB_FLAGS, (str(users), f"{spawn_rate:g}", duration), strict=True):
        if flag not in args:
            raise PluginError(f"the release's Locust Job has no {flag} argument to set")
        args[args.index(flag) + 1] = value
    return job


def run_in_cluster(endpoints: Endpoints, users: int, spawn_rate: float, duration: str, out) -> int:
    release, cluster = endpoints.release(), endpoints.cluster
    endpoints.facts()  # the release is there (a clear error otherwise)
    selector = parts.selector(parts.loadtest_job_labels(release))
    configmaps = cluster.get_json("get", "configmaps", "-l", selector)
    name = f"{release}-loadtest-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"[:63]
    job = job_manifest(
        parts.loadtest_job(configmaps["items"], release), users, spawn_rate, duration, name
    )
    cluster.run(cluster.kubectl("create", "-f", "-"), stdin=json.dumps(job))
    print(f"job {name}: {users} users for {duration}", file=out)
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
