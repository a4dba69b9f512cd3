"""MLflow's basic-auth in the chart: the generated users' Secret, the server's init container
and flags, the credentials each pod reads, and no password outside Secrets."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import pytest
import yaml
from chart.chart_render import (
    ROOT,
    airflow_worker,
    container_env,
    find,
    pod_specs,
    real_deps_dir,
    render_chart,
)
from proyecto4_common.names import MLFLOW_ADMIN_USER, MLFLOW_PIPELINE_USER, MLFLOW_READER_USER

AUTH_SECRET = "proyecto4-mlflow-auth"
USERS = {"admin": MLFLOW_ADMIN_USER, "pipeline": MLFLOW_PIPELINE_USER, "reader": MLFLOW_READER_USER}


def secret_data(objects: list[dict], name: str) -> dict[str, str]:
    return {
        k: base64.b64decode(v).decode() for k, v in find(objects, "Secret", name)["data"].items()
    }


def mlflow_pod(objects: list[dict]) -> dict:
    return find(objects, "Deployment", "proyecto4-mlflow")["spec"]["template"]["spec"]


def test_the_users_secret_holds_the_three_users_with_distinct_generated_passwords():
    objects = render_chart()
    secret = find(objects, "Secret", AUTH_SECRET)
    data = secret_data(objects, AUTH_SECRET)
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert {role: data[f"{role}-username"] for role in USERS} == USERS
    passwords = [data[f"{role}-password"] for role in USERS] + [data["flask-secret-key"]]
    assert len(set(passwords)) == 4 and all(len(p) == 32 and p.isalnum() for p in passwords)


def test_the_auth_store_is_a_database_of_its_own_in_mlflows_mysql():
    objects = render_chart()
    uris = secret_data(objects, "proyecto4-mlflow-db")
    backend, auth = (
        urlsplit(uris["MLFLOW_BACKEND_STORE_URI"]),
        urlsplit(uris["MLFLOW_AUTH_DATABASE_URI"]),
    )
    assert (auth.scheme, auth.hostname, auth.port, auth.username, auth.password) == (
        backend.scheme,
        backend.hostname,
        backend.port,
        backend.username,
        backend.password,
    )
    assert (backend.path, auth.path) == ("/mlflow", "/mlflow_auth")
    values = yaml.safe_load((ROOT / "values.yaml").read_text())
    assert values["global"]["platform"]["mlflowAuth"]["database"] == "mlflow_auth"
    # The in-cluster MySQL creates it at its first start, for MLflow's user.
    script = values["mysql"]["initdbScripts"]["create-mlflow-auth-db.sql"]
    platform_database = "{{ .Values.global.platform.mlflowAuth.database }}"
    assert f"CREATE DATABASE IF NOT EXISTS {platform_database};" in script
    assert f"ON {platform_database}.* TO '{{{{ .Values.auth.username }}}}'" in script


def test_the_server_runs_basic_auth_after_an_init_container_that_sets_up_the_users():
    objects = render_chart()
    pod = mlflow_pod(objects)
    [server] = pod["containers"]
    assert server["command"][-2:] == ["--app-name", "basic-auth"]
    assert "--serve-artifacts" in server["command"]  # artifacts stay proxied, behind the same auth
    init = {c["name"]: c for c in pod["initContainers"]}
    assert list(init) == ["wait-for-schema", "auth-setup"]
    setup = init["auth-setup"]
    assert setup["command"] == ["python", "-m", "proyecto4_mlflow.auth"]
    data = secret_data(objects, AUTH_SECRET)
    setup_env = container_env(objects, setup)
    expected = {
        "MLFLOW_AUTH_ADMIN_USERNAME": "admin-username",
        "MLFLOW_AUTH_ADMIN_PASSWORD": "admin-password",
        "PROYECTO4_MLFLOW_PIPELINE_USERNAME": "pipeline-username",
        "PROYECTO4_MLFLOW_PIPELINE_PASSWORD": "pipeline-password",
        "PROYECTO4_MLFLOW_READER_USERNAME": "reader-username",
        "PROYECTO4_MLFLOW_READER_PASSWORD": "reader-password",
    }
    for name, key in expected.items():
        assert setup_env[name] == (f"Secret/{AUTH_SECRET}", data[key])
    assert setup_env["MLFLOW_AUTH_DATABASE_URI"][0] == "Secret/proyecto4-mlflow-db"
    server_env = container_env(objects, server)
    assert server_env["MLFLOW_FLASK_SERVER_SECRET_KEY"] == (
        f"Secret/{AUTH_SECRET}",
        data["flask-secret-key"],
    )
    # The configuration (with the store's password) is written to the pod's emptyDir, which
    # both containers mount, never into a ConfigMap.
    path = "/tmp/mlflow-auth/basic_auth.ini"
    assert (
        setup_env["MLFLOW_AUTH_CONFIG_PATH"][1] == server_env["MLFLOW_AUTH_CONFIG_PATH"][1] == path
    )
    volumes = {v["name"]: v for v in pod["volumes"]}
    for container in (server, setup):
        [tmp] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert "emptyDir" in volumes[tmp["name"]]
    # The admin password reaches the init container only.
    assert "MLFLOW_AUTH_ADMIN_PASSWORD" not in server_env


def test_probes_and_the_helm_test_ask_the_open_health_endpoint():
    objects = render_chart()
    [server] = mlflow_pod(objects)["containers"]
    assert {
        server[f"{kind}Probe"]["httpGet"]["path"] for kind in ("startup", "liveness", "readiness")
    } == {"/health"}
    test_pod = find(objects, "Pod", "proyecto4-mlflow-test")
    assert test_pod["spec"]["containers"][0]["command"][-1] == "http://proyecto4-mlflow:5000/health"


@pytest.mark.parametrize(
    ("kind", "name", "container", "role"),
    [
        ("Deployment", "proyecto4-inference-api", "inference-api", "reader"),
        ("Deployment", "proyecto4-streamlit", "streamlit", "reader"),
    ],
)
def test_the_api_and_the_ui_read_as_the_reader_user(kind, name, container, role):
    objects = render_chart()
    pod = find(objects, kind, name)["spec"]["template"]["spec"]
    [found] = [c for c in pod["containers"] if c["name"] == container]
    env = container_env(objects, found)
    data = secret_data(objects, AUTH_SECRET)
    assert env["MLFLOW_TRACKING_USERNAME"] == (f"Secret/{AUTH_SECRET}", data[f"{role}-username"])
    assert env["MLFLOW_TRACKING_PASSWORD"] == (f"Secret/{AUTH_SECRET}", data[f"{role}-password"])


@pytest.mark.skipif(
    real_deps_dir() is None, reason="needs the real Airflow chart (PROYECTO4_DEPS_DIR)"
)
def test_airflows_task_pods_and_scheduler_write_as_the_pipeline_user():
    objects = render_chart()
    data = secret_data(objects, AUTH_SECRET)
    scheduler = find(objects, "Deployment", "proyecto4-scheduler")["spec"]["template"]["spec"][
        "containers"
    ][0]
    for container in (airflow_worker(objects), scheduler):
        env = container_env(objects, container)
        assert env["MLFLOW_TRACKING_USERNAME"] == (
            f"Secret/{AUTH_SECRET}",
            data["pipeline-username"],
        )
        assert env["MLFLOW_TRACKING_PASSWORD"] == (
            f"Secret/{AUTH_SECRET}",
            data["pipeline-password"],
        )


def test_no_mlflow_password_is_in_a_configmap_a_plain_env_value_or_the_values_files():
    objects = render_chart()
    data = secret_data(objects, AUTH_SECRET)
    passwords = [data[f"{role}-password"] for role in USERS] + [data["flask-secret-key"]]
    for obj in objects:
        if obj["kind"] == "Secret":
            continue
        text = yaml.safe_dump(obj)
        assert not any(p in text for p in passwords), f"{obj['kind']}/{obj['metadata']['name']}"
    for _, spec in pod_specs(objects):
        for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            for item in container.get("env") or []:
                assert not (
                    "MLFLOW" in item["name"] and "PASSWORD" in item["name"] and "value" in item
                ), item["name"]
    for path in [ROOT / "values.yaml", *(ROOT / "values").glob("*.yaml")]:
        assert "password:" not in path.read_text().lower().replace("-password", ""), path


def test_auth_off_renders_the_server_without_it():
    objects = render_chart(values={"mlflow": {"auth": {"enabled": False}}})
    pod = mlflow_pod(objects)
    assert "--app-name" not in pod["containers"][0]["command"]
    assert [c["name"] for c in pod["initContainers"]] == ["wait-for-schema"]
    assert not [
        o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == AUTH_SECRET
    ]
