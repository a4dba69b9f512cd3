"""The plugin's lookups, checked against what the chart really renders (render_chart), not
made-up objects: component labels, the admin Secret name, the release's full name."""

from __future__ import annotations

import pytest
from chart.chart_render import find, render_chart
from proyecto4_plugin import release

DEFAULT = {"secretName": "{{ the chart's default }}"}


@pytest.mark.parametrize("name", ["proyecto4", "prod", "proyecto4-dev", "mlflow-demo"])
def test_the_admin_secrets_the_plugin_reads_are_the_ones_the_chart_names(name):
    objects = render_chart(release=name)
    job = find(objects, "Job", f"{name}-first-run")
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    api = next(
        o
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("inference-api")
    )
    api_env = {e["name"]: e for e in api["spec"]["template"]["spec"]["containers"][0]["env"]}
    values = {"global": {"platform": {"airflowAdmin": DEFAULT, "mlflowAuth": DEFAULT}}}
    secrets = {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}

    airflow_admin = env["AIRFLOW_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
    assert release.platform_secret_name(values, name, "airflowAdmin") == airflow_admin
    assert airflow_admin in secrets
    mlflow_users = api_env["MLFLOW_TRACKING_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
    assert release.platform_secret_name(values, name, "mlflowAuth") == mlflow_users
    assert mlflow_users in secrets


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
    assert (
        release.service_port(found)
        == find(objects, "Service", expected)["spec"]["ports"][0]["port"]
    )
