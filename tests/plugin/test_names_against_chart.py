"""The plugin's lookups, checked against what the chart really renders (render_chart), not
made-up objects: component labels, and the release-facts ConfigMap the plugin reads the
release's Secret names from (instead of Helm, which keeps no release under Argo CD)."""

from __future__ import annotations

import pytest
from chart.chart_render import find, render_chart
from proyecto4_plugin import release

# A site's own names (templated, like the defaults), for global.platform.
SITE_PLATFORM = {
    "airflowAdmin": {"username": "ops", "secretName": "site-airflow-login"},
    "mlflowAuth": {"secretName": "{{ .Release.Name }}-mlflow-users"},
}


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env") or []}


def secret_ref(container: dict, variable: str) -> str:
    return env_of(container)[variable]["valueFrom"]["secretKeyRef"]["name"]


def facts_of(objects: list[dict], name: str) -> dict[str, str]:
    """The release-facts ConfigMap the plugin finds among objects, by the plugin's labels."""
    wanted = release.release_facts_labels(name).items()
    found = [
        o
        for o in objects
        if o["kind"] == "ConfigMap" and wanted <= (o["metadata"].get("labels") or {}).items()
    ]
    assert len(found) == 1, [o["metadata"]["name"] for o in found]
    return found[0]


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("proyecto4", None),
        ("prod", None),
        ("proyecto4-dev", None),
        ("mlflow-demo", None),
        ("proyecto4-dev", SITE_PLATFORM),
        ("prod", SITE_PLATFORM),
    ],
)
def test_the_release_facts_name_the_secrets_the_chart_uses(name, platform):
    objects = render_chart(
        release=name, values={"global": {"platform": platform}} if platform else None
    )
    configmap = facts_of(objects, name)
    facts = configmap["data"]
    fullname = name if "proyecto4" in name else f"{name}-proyecto4"
    secrets = {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}

    assert configmap["metadata"]["name"] == f"{fullname}-release"
    # Airflow's admin: the first-run Job logs in as it (and the Airflow chart's create-user
    # Job makes it, when the real chart renders).
    first_run = find(objects, "Job", f"{name}-first-run")["spec"]["template"]["spec"]
    (runner,) = first_run["containers"]
    assert facts[release.AIRFLOW_ADMIN_USERNAME] == env_of(runner)["AIRFLOW_ADMIN_USER"]["value"]
    assert facts[release.AIRFLOW_ADMIN_SECRET] == secret_ref(runner, "AIRFLOW_ADMIN_PASSWORD")
    assert facts[release.AIRFLOW_ADMIN_SECRET] in secrets
    for job in (o for o in objects if o["metadata"]["name"] == f"{name}-create-user"):
        job_pod = job["spec"]["template"]["spec"]
        volumes = job_pod.get("volumes") or []
        mounted = {v["secret"]["secretName"] for v in volumes if "secret" in v}
        assert facts[release.AIRFLOW_ADMIN_SECRET] in mounted
        assert f"-u '{facts[release.AIRFLOW_ADMIN_USERNAME]}'" in " ".join(
            job_pod["containers"][0]["args"]
        )
    # MLflow's users: its server creates the admin from this Secret; the API reads its user there.
    mlflow = find(objects, "Deployment", name if "mlflow" in name else f"{name}-mlflow")
    pod = mlflow["spec"]["template"]["spec"]
    setup = next(c for c in pod["initContainers"] if c["name"] == "auth-setup")
    api = find(objects, "Deployment", f"{name}-inference-api")
    server = api["spec"]["template"]["spec"]["containers"][0]
    assert facts[release.MLFLOW_AUTH_SECRET] == secret_ref(setup, "MLFLOW_AUTH_ADMIN_PASSWORD")
    assert facts[release.MLFLOW_AUTH_SECRET] == secret_ref(server, "MLFLOW_TRACKING_PASSWORD")
    assert facts[release.MLFLOW_AUTH_SECRET] in secrets
    if platform:
        assert facts == {
            release.AIRFLOW_ADMIN_USERNAME: "ops",
            release.AIRFLOW_ADMIN_SECRET: "site-airflow-login",
            release.MLFLOW_AUTH_SECRET: f"{name}-mlflow-users",
        }


def test_the_release_facts_leave_out_what_the_release_does_not_run():
    values = {"airflow": {"enabled": False}, "mlflow": {"auth": {"enabled": False}}}
    assert facts_of(render_chart(release="r", values=values), "r")["data"] == {}


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
