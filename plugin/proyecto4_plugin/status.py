"""helm proyecto4 status: readiness, production model, last DAG run, what the API serves."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from proyecto4_plugin import release as parts
from proyecto4_plugin.airflow import last_dag_run, release_login
from proyecto4_plugin.endpoints import Endpoints
from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.inference_api import InferenceApi, metric_total, served_version
from proyecto4_plugin.names import PREDICT_REQUESTS_TOTAL, RUN_METRICS
from proyecto4_plugin.promotion import promoted_at
from proyecto4_plugin.registry import Registry

Row = tuple[str, bool, str]  # (component, ready, detail)


def age(since: datetime, now: datetime) -> str:
    """A short human age: '3d 4h', '2h 5m', '4m 2s', '42s'."""
    seconds = max(0, int((now - since).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


def production_since(model_version: dict) -> datetime:
    """When the version became production: its promotion record, else its last change."""
    recorded = promoted_at(model_version)
    if recorded:
        return recorded
    millis = model_version.get("last_updated_timestamp") or model_version["creation_timestamp"]
    return datetime.fromtimestamp(int(millis) / 1000, timezone.utc)


def cluster_rows(endpoints: Endpoints) -> list[Row]:
    """Every Deployment/StatefulSet/DaemonSet of the release with its ready replicas."""
    rows = []
    for workload in parts.workloads(endpoints.objects()):
        ready, wanted = parts.readiness(workload)
        name = f"{workload['kind']} {workload['metadata']['name']}"
        rows.append((name, ready >= wanted, f"{ready}/{wanted} ready"))
    return rows


def _probe_row(title: str, service, path: str) -> Row:
    code = service.probe(path)
    return (f"{title} {service.base_url}", code == 200, f"{path} {code or 'no answer'}")


def url_rows(endpoints: Endpoints) -> list[Row]:
    """URL mode has no workloads to list: each given service's health endpoint instead."""
    rows = [
        _probe_row("inference API", endpoints.service("api"), "/ready"),
        _probe_row("MLflow", endpoints.mlflow(), "/health"),
    ]
    if endpoints.targets.airflow_url:
        rows.append(_probe_row("Airflow", endpoints.service("airflow"), "/api/v2/monitor/health"))
    return rows


def production_lines(registry: Registry) -> list[str]:
    production = registry.production()
    if production is None:
        return [f"production model: none ({registry.model_name} has no production alias)"]
    since = age(production_since(production), datetime.now(timezone.utc))
    lines = [
        f"production model: {registry.model_name} v{production['version']}, production for {since}"
    ]
    metrics = registry.run_metrics(production["run_id"]) if production.get("run_id") else {}
    shown = "  ".join(f"{key} {metrics[key]:.4f}" for key in RUN_METRICS if key in metrics)
    if shown:
        lines.append(f"  {shown}")
    return lines


def dag_run_line(endpoints: Endpoints) -> str:
    if not (endpoints.targets.airflow_url or endpoints.cluster_mode):
        return "last DAG run: not checked (give --airflow-url)"
    try:
        airflow = endpoints.service("airflow")
        login = None
        if not endpoints.targets.airflow_url:
            login = release_login(endpoints.cluster, endpoints.facts())
        return f"last DAG run: {last_dag_run(airflow, login)}"
    except PluginError as exc:
        return f"last DAG run: unknown ({exc})"


def request_rate(api: InferenceApi, window: float) -> str:
    """predict_requests_total as a rate over `window` seconds (two scrapes), or its total."""
    first = metric_total(api.metrics(), PREDICT_REQUESTS_TOTAL)
    if first is None:
        return f"{PREDICT_REQUESTS_TOTAL} not exported"
    if window <= 0:
        return f"{first:g} requests so far"
    time.sleep(window)
    second = metric_total(api.metrics(), PREDICT_REQUESTS_TOTAL) or 0.0
    return f"{(second - first) / window:.2f} requests/s over {window:g} s ({second:g} so far)"


def api_line(endpoints: Endpoints, rate_window: float) -> str:
    api = InferenceApi(endpoints.service("api"))
    if api.service.probe("/health") is None:
        return "inference API: not answering"
    served = served_version(api.model()) if api.service.probe("/ready") == 200 else None
    shown = f"v{served}" if served else "no model"
    return f"inference API: serves {shown}, {request_rate(api, rate_window)}"


def run(endpoints: Endpoints, *, rate_window: float, out) -> int:
    if endpoints.cluster_mode:
        print(f"release {endpoints.release()} (namespace {endpoints.cluster.namespace})", file=out)
        rows = cluster_rows(endpoints)
    else:
        print(f"release {endpoints.targets.release or '(URL mode)'}", file=out)
        rows = url_rows(endpoints)
    print("components:", file=out)
    for name, ready, detail in rows:
        print(f"  {'ready    ' if ready else 'NOT READY'}  {name}: {detail}", file=out)
    for line in production_lines(Registry(endpoints.mlflow(), endpoints.targets.model_name)):
        print(line, file=out)
    print(dag_run_line(endpoints), file=out)
    print(api_line(endpoints, rate_window), file=out)
    not_ready = [name for name, ready, _ in rows if not ready]
    if not_ready:
        print("not ready: " + ", ".join(not_ready), file=out)
    return 1 if not_ready else 0
