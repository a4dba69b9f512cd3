"""kube-prometheus-stack as the umbrella renders it picks up our objects: its Prometheus
selects the ServiceMonitor and the PrometheusRule, its Grafana sidecar the dashboards.
Needs the real stack chart (ci/package-real-deps.sh); the stubs render nothing."""

from __future__ import annotations

import pytest
from chart.chart_render import real_deps_dir


@pytest.fixture(scope="module")
def stack(chart) -> list[dict]:
    if real_deps_dir() is None:
        pytest.skip("needs the real kube-prometheus-stack chart: set PROYECTO4_DEPS_DIR")
    return [doc for source, doc in chart.documents() if "/kube-prometheus-stack/" in source]


@pytest.mark.parametrize(
    "selector, kind",
    [("serviceMonitorSelector", "ServiceMonitor"), ("ruleSelector", "PrometheusRule")],
)
def test_the_stacks_prometheus_selects_our_object(stack, monitoring, selector, kind):
    (prometheus,) = [doc for doc in stack if doc["kind"] == "Prometheus"]
    (ours,) = monitoring[kind]
    wanted = prometheus["spec"][selector]["matchLabels"]
    assert wanted.items() <= ours["metadata"]["labels"].items()
    # An empty namespace selector: every namespace, ours included.
    assert prometheus["spec"][selector.replace("Selector", "NamespaceSelector")] == {}


def test_the_grafana_sidecar_loads_our_dashboards(stack, monitoring):
    (grafana,) = [
        doc
        for doc in stack
        if doc["kind"] == "Deployment" and doc["metadata"]["name"].endswith("grafana")
    ]
    (sidecar,) = [
        c
        for c in grafana["spec"]["template"]["spec"]["containers"]
        if c["name"] == "grafana-sc-dashboard"
    ]
    env = {e["name"]: e.get("value") for e in sidecar["env"]}
    assert env["NAMESPACE"] == "ALL"
    for config_map in monitoring["ConfigMap"]:
        assert config_map["metadata"]["labels"][env["LABEL"]] == env["LABEL_VALUE"]
