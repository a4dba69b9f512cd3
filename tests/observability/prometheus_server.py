"""A real Prometheus (Debian's binary) scraping a local API the way the chart's
ServiceMonitor tells kube-prometheus-stack to, with the chart's rules loaded."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml
from proyecto4_common.net import free_port
from servers import running

# ServiceMonitor endpoint fields and their scrape_config equivalents; a field missing here
# makes the conversion fail, so the test never silently drops part of what we ship.
_ENDPOINT_FIELDS = {
    "port": None,  # which Service port: replaced by the local target
    "path": "metrics_path",
    "interval": "scrape_interval",
    "scrapeTimeout": "scrape_timeout",
    "scheme": "scheme",
    "honorLabels": "honor_labels",
    "relabelings": "relabel_configs",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _relabel(rule: dict) -> dict:
    out = {_snake(key): value for key, value in rule.items()}
    if "action" in out:
        out["action"] = out["action"].lower()  # the operator accepts "Replace", Prometheus not
    return out


def scrape_config(service_monitor: dict, target: str) -> dict:
    """The scrape job Prometheus Operator would generate for the ServiceMonitor's single
    endpoint, with Kubernetes discovery replaced by one static target."""
    (endpoint,) = service_monitor["spec"]["endpoints"]
    unknown = set(endpoint) - set(_ENDPOINT_FIELDS)
    if unknown:
        raise ValueError(f"ServiceMonitor endpoint fields without a scrape equivalent: {unknown}")
    config = {
        "job_name": service_monitor["metadata"]["name"],
        "static_configs": [{"targets": [target]}],
    }
    for field, key in _ENDPOINT_FIELDS.items():
        if key and field in endpoint:
            value = endpoint[field]
            config[key] = [_relabel(r) for r in value] if field == "relabelings" else value
    return config


class Prometheus:
    def __init__(self, url: str):
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def query(self, expr: str) -> list[dict]:
        """Instant query; the result vector (or scalar as a one-element list)."""
        response = self.http.get("/api/v1/query", params={"query": expr})
        assert response.status_code == 200, f"{expr}: {response.status_code} {response.text}"
        data = response.json()["data"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def values(self, expr: str, label: str) -> dict[str, float]:
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in self.query(expr)}

    def rules(self) -> list[dict]:
        response = self.http.get("/api/v1/rules")
        assert response.status_code == 200, response.text
        return [rule for group in response.json()["data"]["groups"] for rule in group["rules"]]

    def evaluated_rules(self, timeout: float = 60) -> list[dict]:
        """The loaded rules once each has been evaluated at least once."""
        deadline = time.monotonic() + timeout
        while True:
            rules = self.rules()
            if all(r["health"] != "unknown" for r in rules) or time.monotonic() > deadline:
                return rules
            time.sleep(1)

    def wait_for(self, expr: str, timeout: float = 120) -> list[dict]:
        """Polls until `expr` has data (scrapes and rule evaluations run every few seconds);
        returns the last answer, empty if it never had data."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result or time.monotonic() > deadline:
                return result
            time.sleep(1)


@contextlib.contextmanager
def prometheus(binary: str, workdir: Path, scrape: dict, rule_file: Path) -> Iterator[Prometheus]:
    """Prometheus on a free port with its own data folder, evaluating rules as often as it
    scrapes."""
    config = {
        "global": {
            "scrape_interval": scrape["scrape_interval"],
            "evaluation_interval": scrape["scrape_interval"],
        },
        "rule_files": [str(rule_file)],
        "scrape_configs": [scrape],
    }
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    args = [
        binary,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with running(args, url + "/-/ready", timeout=60):
        yield Prometheus(url)
