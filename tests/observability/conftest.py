"""Fixtures of the observability tests: the chart's monitoring objects rendered by a real
helm, and the promtool / prometheus binaries of Debian's `prometheus` package
(ci/install-prometheus.sh)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

# RELEASE: the rule unit tests (alerts-test.yaml) expect "proyecto4" in the `job` label.
from chart.chart_render import NAMESPACE, RELEASE, render_with_sources  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI") == "true"
# Our templates' documents carry this `# Source:` path prefix in helm's output.
MONITORING_SOURCE = "proyecto4/templates/monitoring-"


def tool(name: str, env_var: str | None = None, default: Path | None = None) -> str:
    """Path of a binary the tests need: skipped with the reason when missing, failed in CI."""
    candidates = [os.environ.get(env_var or ""), default, shutil.which(name)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return str(candidate)
    installer = "ci/install-helm.sh" if name == "helm" else "ci/install-prometheus.sh"
    reason = f"{name} not found (run {installer})"
    if IN_CI:
        pytest.fail(reason + " - CI must install it")
    pytest.skip(reason)


class Chart:
    """The umbrella chart rendered by tests/chart's offline helper (stubs for external
    dependencies), release "proyecto4"."""

    @staticmethod
    def documents(values: dict | None = None) -> list[tuple[str, dict]]:
        """(source template, document) pairs of the whole chart."""
        return render_with_sources(values)

    def monitoring(self, values: dict | None = None) -> dict[str, list[dict]]:
        """Our monitoring templates' documents by kind (not --show-only, which fails on a
        template a switch turned off)."""
        kinds: dict[str, list[dict]] = {}
        for source, doc in self.documents(values):
            if source.startswith(MONITORING_SOURCE):
                kinds.setdefault(doc["kind"], []).append(doc)
        return kinds


@pytest.fixture(scope="session")
def chart() -> Chart:
    tool("helm", "HELM_BIN", REPO / ".tools/helm4/helm")
    return Chart()


@pytest.fixture(scope="session")
def monitoring(chart) -> dict[str, list[dict]]:
    return chart.monitoring()


@pytest.fixture(scope="session")
def prometheus_rule(monitoring) -> dict:
    (rule,) = monitoring["PrometheusRule"]
    return rule


@pytest.fixture(scope="session")
def service_monitor(monitoring) -> dict:
    (monitor,) = monitoring["ServiceMonitor"]
    return monitor


@pytest.fixture(scope="session")
def dashboards(monitoring) -> dict[str, dict]:
    """Dashboard file name -> parsed JSON, as the rendered ConfigMaps carry them."""
    return {
        name: json.loads(text)
        for config_map in monitoring["ConfigMap"]
        for name, text in config_map["data"].items()
    }


@pytest.fixture
def rules_file(prometheus_rule, tmp_path) -> Path:
    """The PrometheusRule's groups as a plain Prometheus rule file."""
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": prometheus_rule["spec"]["groups"]}, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return tool("promtool")


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    return tool("prometheus")
