"""The plugin's lookups, checked against what the chart really renders (render_chart), not
made-up objects: component labels, the admin Secret name, the release's full name."""

from __future__ import annotations

import pytest
from chart.chart_render import find, render_chart
from proyecto4_plugin import airflow, release


@pytest.mark.parametrize("name", ["proyecto4", "prod", "proyecto4-dev", "mlflow-demo"])
def test_the_admin_secret_the_plugin_reads_is_the_one_the_chart_names(name):
    objects = render_chart(release=name)
    job = find(objects, "Job", f"{name}-first-run")
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    values = {"global": {"platform": {"airflowAdmin": {"secretName": "{{ the chart's default }}"}}}}

    expected = env["AIRFLOW_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
    assert airflow.admin_secret_name(values, name) == expected
    assert expected in {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}


@pytest.mark.parametrize("name", ["proyecto4", "mlflow-demo"])
@pytest.mark.parametrize(
    ("component", "service"),
    [("api", "inference-api"), ("mlflow", "mlflow"), ("locust", "locust-master")],
)
def test_component_services_are_found_by_their_rendered_labels(name, component, service):
    objects = render_chart(release=name, values={"locust": {"enabled": True}})
    found = release.component_service(objects, component, name)
    fullname = name if service.split("-")[0] in name else f"{name}-{service.split('-master')[0]}"
    expected = f"{fullname}-master" if service == "locust-master" else fullname

    assert found["metadata"]["name"] == expected
    assert release.service_port(found) == find(objects, "Service", expected)["spec"]["ports"][0]["port"]
