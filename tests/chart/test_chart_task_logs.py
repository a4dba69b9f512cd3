"""Airflow's task logs kept in the object store: airflow.cfg's [logging] settings, the object
store's connection (templates/airflow-configmap.yaml) and keys (global.platform.objectStore.secretName)
in the scheduler, the API server and the task pods, in each values layer; no credential in a
ConfigMap or in values. tests/pipeline/test_task_logs.py runs a task with these settings.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml
from chart.chart_render import (
    LAYERS,
    ROOT,
    airflow_cfg,
    airflow_worker,
    container_env,
    find,
    real_deps_dir,
    render_chart,
)

needs_real_deps = pytest.mark.skipif(
    real_deps_dir() is None, reason="needs the real dependency charts (PROYECTO4_DEPS_DIR)"
)
VALUES = yaml.safe_load((ROOT / "values.yaml").read_text())
OBJECT_STORE_SECRET = "proyecto4-object-store"
CONNECTION_CONFIGMAP = "proyecto4-airflow-object-store"
CONNECTION_VARIABLE = "AIRFLOW_CONN_PROYECTO4_OBJECT_STORE"
KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
LOGS_OFF = {"airflow": {"config": {"logging": {"remote_logging": "False"}}}}

# layer -> (airflow.cfg [logging], the connection's JSON)
LAYER_CASES = [
    (
        "base",
        {
            "remote_logging": "True",
            "remote_base_log_folder": "s3://mlflow/airflow-logs",
            "remote_log_conn_id": "proyecto4_object_store",
            "delete_local_logs": "True",
        },
        {"conn_type": "aws", "extra": {"endpoint_url": "http://proyecto4-minio:9000"}},
    ),
    (
        "dev",
        {
            "remote_logging": "True",
            "remote_base_log_folder": "s3://mlflow/airflow-logs",
            "remote_log_conn_id": "proyecto4_object_store",
            "delete_local_logs": "True",
        },
        {"conn_type": "aws", "extra": {"endpoint_url": "http://proyecto4-minio:9000"}},
    ),
    (
        "prod",
        {
            "remote_logging": "True",
            "remote_base_log_folder": "s3://proyecto4-mlflow/airflow-logs",
            "remote_log_conn_id": "proyecto4_object_store",
            "delete_local_logs": "True",
        },
        # AWS S3 itself: no endpoint; the keys (and a region, if needed) from the Secret.
        {"conn_type": "aws"},
    ),
]


def airflow_containers(objects: list[dict]) -> dict[str, dict]:
    """The containers that write (task pods) and read (API server, scheduler) task logs."""

    def main(deployment: str, container: str) -> dict:
        spec = find(objects, "Deployment", deployment)["spec"]["template"]["spec"]
        return next(c for c in spec["containers"] if c["name"] == container)

    return {
        "scheduler": main("proyecto4-scheduler", "scheduler"),
        "api-server": main("proyecto4-api-server", "api-server"),
        "worker": airflow_worker(objects),
    }


@needs_real_deps
@pytest.mark.parametrize(("layer_name", "logging", "connection"), LAYER_CASES)
def test_airflow_cfg_sends_task_logs_to_the_object_store(layer_name, logging, connection):
    cfg = airflow_cfg(render_chart(value_files=LAYERS[layer_name]))

    assert {key: cfg["logging"].get(key) for key in logging} == logging


@pytest.mark.parametrize(("layer_name", "logging", "connection"), LAYER_CASES)
def test_the_connection_names_the_endpoint_and_no_secret(layer_name, logging, connection):
    configmap = find(
        render_chart(value_files=LAYERS[layer_name]), "ConfigMap", CONNECTION_CONFIGMAP
    )

    assert list(configmap["data"]) == [CONNECTION_VARIABLE]
    assert f"AIRFLOW_CONN_{logging['remote_log_conn_id'].upper()}" == CONNECTION_VARIABLE
    assert json.loads(configmap["data"][CONNECTION_VARIABLE]) == connection


@needs_real_deps
@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_task_logs_have_a_prefix_of_their_own_in_mlflows_bucket(layer_name):
    objects = render_chart(value_files=LAYERS[layer_name])
    logs = airflow_cfg(objects)["logging"]["remote_base_log_folder"]
    artifacts = find(objects, "ConfigMap", "proyecto4-mlflow")["data"][
        "MLFLOW_ARTIFACTS_DESTINATION"
    ]
    bucket = logs.removeprefix("s3://").split("/")[0]
    minio = [
        o
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "proyecto4-minio"
    ]

    assert bucket == artifacts.removeprefix("s3://").split("/")[0]
    assert not logs.startswith(artifacts) and not artifacts.startswith(logs)
    if minio:  # the bucket MinIO creates at install
        env = {
            e["name"]: e.get("value")
            for e in minio[0]["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert bucket in env["MINIO_DEFAULT_BUCKETS"].split(",")


@needs_real_deps
@pytest.mark.parametrize(("layer_name", "logging", "connection"), LAYER_CASES)
def test_scheduler_api_server_and_task_pods_get_the_connection_and_the_keys(
    layer_name, logging, connection
):
    objects = render_chart(value_files=LAYERS[layer_name])
    secret_rendered = any(
        o["kind"] == "Secret" and o["metadata"]["name"] == OBJECT_STORE_SECRET for o in objects
    )

    for role, container in airflow_containers(objects).items():
        env = container_env(objects, container)
        source, value = env[CONNECTION_VARIABLE]
        assert source == f"ConfigMap/{CONNECTION_CONFIGMAP}", role
        assert json.loads(value) == connection, role
        assert {"secretRef": {"name": OBJECT_STORE_SECRET}} in container["envFrom"], role
        if secret_rendered:  # generated with MinIO; prod's is yours, its keys unknown here
            assert {key: env[key][0] for key in KEYS} == dict.fromkeys(
                KEYS, f"Secret/{OBJECT_STORE_SECRET}"
            ), role


@needs_real_deps
def test_jobs_get_no_object_store_keys():
    objects = render_chart()
    for job in ("proyecto4-run-airflow-migrations", "proyecto4-create-user"):
        spec = find(objects, "Job", job)["spec"]["template"]["spec"]
        for container in spec["containers"]:
            assert {"secretRef": {"name": OBJECT_STORE_SECRET}} not in (
                container.get("envFrom") or []
            )


@needs_real_deps
def test_remote_logging_off_leaves_out_the_connection_and_the_keys():
    objects = render_chart(values=LOGS_OFF)

    assert airflow_cfg(objects)["logging"]["remote_logging"] == "False"
    assert CONNECTION_CONFIGMAP not in {
        o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"
    }
    for role, container in airflow_containers(objects).items():
        refs = [
            ref.get("secretRef", ref.get("configMapRef"))["name"] for ref in container["envFrom"]
        ]
        assert "proyecto4-data-db" in refs, role
        assert "proyecto4-object-store" not in refs, role
        assert CONNECTION_CONFIGMAP not in refs, role


def test_remote_logging_off_renders_no_connection_with_stub_dependencies():
    names = {
        o["metadata"]["name"] for o in render_chart(values=LOGS_OFF) if o["kind"] == "ConfigMap"
    }

    assert CONNECTION_CONFIGMAP not in names


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_no_credential_in_any_configmap(layer_name):
    objects = render_chart(value_files=LAYERS[layer_name])
    # Every generated key and password (prod's Secrets are yours: none rendered). User names
    # ("pipeline", "admin") are not secret and do appear in ConfigMaps as ordinary words.
    credentials = {
        base64.b64decode(value).decode()
        for o in objects
        if o["kind"] == "Secret"
        for key, value in (o.get("data") or {}).items()
        if not key.endswith(("username", "user"))
    }
    configmaps = {
        o["metadata"]["name"]: json.dumps(o.get("data") or {})
        for o in objects
        if o["kind"] == "ConfigMap"
    }
    connection = json.loads(json.loads(configmaps[CONNECTION_CONFIGMAP])[CONNECTION_VARIABLE])

    assert layer_name == "prod" or OBJECT_STORE_SECRET in {
        o["metadata"]["name"] for o in objects if o["kind"] == "Secret"
    }
    assert [
        (name, secret)
        for secret in credentials
        if len(secret) >= 8
        for name, text in configmaps.items()
        if secret in text
    ] == []
    # No login, password or key in the connection: boto3 takes the keys from the environment.
    assert set(connection) <= {"conn_type", "extra"}
    assert set(connection.get("extra", {})) <= {"endpoint_url"}


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_no_credential_in_values(layer_name):
    """Values name Secrets; none sets a key or password itself."""
    credential = re.compile(
        r"(?i)^(aws_)?(access_?key(_id)?|secret_?(access_?)?key|password|root-?password)$"
    )

    def walk(node, path=""):
        if isinstance(node, dict):
            # {secretName, secretKey} points into a Secret: the key's name is no credential.
            references = "secretName" in node
            for key, value in node.items():
                if not (references and key == "secretKey"):
                    yield from walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{path}[{index}]")
        else:
            yield path, node

    for values_file in ("values.yaml", *LAYERS[layer_name]):
        values = yaml.safe_load((ROOT / values_file).read_text())
        found = [
            (path, value)
            for path, value in walk(values)
            if credential.match(path.rsplit(".", 1)[-1]) and value not in (None, "")
        ]
        assert found == [], values_file
        # The object store's keys reach Airflow only through the Secret (extraEnvFrom).
        assert not re.search(
            r"AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)",
            (values.get("airflow") or {}).get("extraEnv") or "",
        )
