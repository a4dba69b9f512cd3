"""The ServiceMonitor: selected by kube-prometheus-stack, pointed at the API's Service,
and the scrape job the live test derives from it."""

from __future__ import annotations

import pytest
from chart.chart_render import NAMESPACE, RELEASE
from prometheus_server import scrape_config

JOB = f"{RELEASE}-inference-api"


def test_scrapes_metrics_every_5s_and_names_the_job(service_monitor):
    (endpoint,) = service_monitor["spec"]["endpoints"]
    assert (endpoint["interval"], endpoint["path"], endpoint["port"]) == ("5s", "/metrics", "http")
    assert endpoint["relabelings"] == [
        {"action": "replace", "targetLabel": "job", "replacement": JOB}
    ]


def test_selects_the_inference_api_service_and_its_port(chart, service_monitor):
    selector = service_monitor["spec"]["selector"]["matchLabels"]
    services = [
        doc
        for _, doc in chart.documents()
        if doc["kind"] == "Service"
        and selector.items() <= doc["metadata"].get("labels", {}).items()
    ]
    assert [s["metadata"]["name"] for s in services] == [JOB]
    (endpoint,) = service_monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in services[0]["spec"]["ports"]}
    assert service_monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}


CUSTOM = {
    "monitoring": {
        "prometheusRelease": "kube-prometheus-stack",
        "serviceMonitor": {"interval": "15s", "scrapeTimeout": "10s", "path": "/custom-metrics"},
    }
}


@pytest.mark.parametrize("values, release", [({}, RELEASE), (CUSTOM, "kube-prometheus-stack")])
def test_every_monitoring_object_carries_the_prometheus_release_label(chart, values, release):
    objects = [doc for docs in chart.monitoring(values).values() for doc in docs]
    # The ServiceMonitor, the PrometheusRule and the dashboard ConfigMaps (model quality included).
    assert len(objects) == 5
    assert {doc["metadata"]["labels"]["release"] for doc in objects} == {release}


def test_scrape_settings_are_values(chart):
    (monitor,) = chart.monitoring(CUSTOM)["ServiceMonitor"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["interval"], endpoint["scrapeTimeout"], endpoint["path"]) == (
        "15s",
        "10s",
        "/custom-metrics",
    )


def test_equivalent_scrape_config(service_monitor):
    assert scrape_config(service_monitor, "127.0.0.1:9") == {
        "job_name": JOB,
        "static_configs": [{"targets": ["127.0.0.1:9"]}],
        "metrics_path": "/metrics",
        "scrape_interval": "5s",
        "scrape_timeout": "4s",
        "relabel_configs": [{"action": "replace", "target_label": "job", "replacement": JOB}],
    }


def test_scrape_config_refuses_endpoint_fields_it_cannot_translate(service_monitor):
    endpoint = {**service_monitor["spec"]["endpoints"][0], "metricRelabelings": []}
    monitor = {**service_monitor, "spec": {**service_monitor["spec"], "endpoints": [endpoint]}}
    with pytest.raises(ValueError, match="metricRelabelings"):
        scrape_config(monitor, "127.0.0.1:9")
