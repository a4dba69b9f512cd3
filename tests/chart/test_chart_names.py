"""One name, one place (issue 13): every in-cluster address a release renders points at a
Service of the same release, whatever its name; Secret names follow their values and never
collide between two releases; each subchart's port is one value."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import yaml
from chart.chart_render import (
    LAYERS,
    NAMESPACE,
    ROOT,
    container_env,
    find,
    pod_specs,
    real_deps_dir,
    render_chart,
)

pytestmark = pytest.mark.skipif(
    real_deps_dir() is None, reason="needs the real dependency charts (PROYECTO4_DEPS_DIR)"
)

RELEASES = [
    "proyecto4",
    "prod",
    # Contains a subchart's name: that chart's fullname is the release name alone.
    "mlflow-demo",
    "minio-grafana",
    # Helm's longest release name (53 characters): every name is cut to 63.
    "a-very-long-release-name-for-the-platform-abcdefghijk",
]
# scheme://[user[:password]@]host[:port]; s3:// names a bucket, not a host.
URL = re.compile(r"\b(?!s3://)[a-z][a-z0-9+.-]*://(?:[^@/\s'\"]*@)?([A-Za-z0-9.-]+)(?::(\d+))?")
# The Airflow chart reads these four values untemplated (see values.yaml): a second release
# in the same namespace sets its own.
AIRFLOW_LITERAL_SECRETS = (
    ("data", "metadataSecretName"),
    ("fernetKeySecretName",),
    ("apiSecretKeySecretName",),
    ("jwtSecretName",),
)
# Grafana's chart reads admin.existingSecret untemplated too.
GRAFANA_LITERAL_SECRET = ("kube-prometheus-stack", "grafana", "admin", "existingSecret")


def in_cluster_service(host: str) -> str | None:
    """The Service a host names in the release's namespace (svc, svc.ns, svc.ns.svc...), else None."""
    labels = host.split(".")
    if len(labels) == 1:
        return None if host in ("localhost",) else host
    if labels[1] == NAMESPACE and all(part in ("svc", "cluster", "local") for part in labels[2:]):
        return labels[0]
    return None


def texts(objects: list[dict]) -> list[tuple[str, str]]:
    """(where, text) of every ConfigMap value, decoded Secret value and container env value."""
    found = []
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "ConfigMap":
            # Scripts hold URL templates ("http://$host"), not addresses.
            found += [
                (f"{where}:{k}", str(v))
                for k, v in (obj.get("data") or {}).items()
                if not k.endswith(".sh")
            ]
        if obj["kind"] == "Secret":
            found += [
                (f"{where}:{k}", base64.b64decode(v).decode())
                for k, v in (obj.get("data") or {}).items()
            ]
            found += [(f"{where}:{k}", str(v)) for k, v in (obj.get("stringData") or {}).items()]
    for label, spec in pod_specs(objects):
        for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            for key, (_, value) in container_env(objects, container).items():
                if value is not None:
                    found.append((f"{label}/{container['name']}:{key}", value))
    return found


def service_ports(objects: list[dict]) -> dict[str, set[int]]:
    return {
        o["metadata"]["name"]: {p["port"] for p in o["spec"].get("ports", [])}
        for o in objects
        if o["kind"] == "Service"
    }


@pytest.mark.parametrize(
    ("release", "layer"),
    [(release, ()) for release in RELEASES] + [("mlflow-demo", ("values/dev.yaml",))],
)
def test_every_in_cluster_address_is_a_service_of_the_same_release(release, layer):
    objects = render_chart(value_files=layer, values={"locust": {"enabled": True}}, release=release)
    services = service_ports(objects)
    checked, wrong = 0, []
    for where, text in texts(objects):
        for host, port in URL.findall(text):
            service = in_cluster_service(host)
            if service is None:
                continue
            checked += 1
            if service not in services or (port and int(port) not in services[service]):
                wrong.append(f"{where}: {host}:{port or '-'}")

    assert not wrong, f"addresses with no Service of release {release}: {wrong}"
    # The addresses ConfigMap, both database URLs, MinIO, Airflow's own and the pipeline's.
    assert checked >= 8


def test_the_addresses_configmap_names_each_component_once():
    objects = render_chart(release="mlflow-demo")
    data = find(objects, "ConfigMap", "mlflow-demo-addresses")["data"]

    assert data == {
        "AIRFLOW_API_URL": "http://mlflow-demo-api-server:8080",
        "DATA_SOURCE_URL": "http://mlflow-demo-data-source:8000",
        "INFERENCE_API_URL": "http://mlflow-demo-inference-api:8989",
        "MLFLOW_S3_ENDPOINT_URL": "http://mlflow-demo-minio:9000",
        "MLFLOW_TRACKING_URI": "http://mlflow-demo:5000",
    }


def test_a_component_env_still_points_one_address_elsewhere():
    objects = render_chart(
        values={"inference-api": {"env": {"MLFLOW_TRACKING_URI": "http://mlflow.example:5000"}}}
    )
    api = find(objects, "Deployment", "proyecto4-inference-api")
    env = container_env(objects, api["spec"]["template"]["spec"]["containers"][0])

    assert env["MLFLOW_TRACKING_URI"] == (
        "ConfigMap/proyecto4-inference-api",
        "http://mlflow.example:5000",
    )


def referenced_secrets(objects: list[dict]) -> set[str]:
    """Names of the Secrets the pods read: envFrom, secretKeyRef and secret volumes."""
    names = set()
    for _, spec in pod_specs(objects):
        for volume in spec.get("volumes") or []:
            if "secret" in volume:
                names.add(volume["secret"]["secretName"])
        for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            for source in container.get("envFrom") or []:
                if "secretRef" in source:
                    names.add(source["secretRef"]["name"])
            for item in container.get("env") or []:
                ref = (item.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    names.add(ref["name"])
    return names


SECRET_VALUES = {
    "dataDatabase": (
        {"global": {"platform": {"dataDatabase": {"secretName": "my-data"}}}},
        "my-data",
    ),
    "airflowAdmin": (
        {"global": {"platform": {"airflowAdmin": {"secretName": "my-admin"}}}},
        "my-admin",
    ),
    "mlflowDatabase": (
        {"global": {"platform": {"mlflowDatabase": {"secretName": "my-mlflow"}}}},
        "my-mlflow",
    ),
    "objectStore": ({"global": {"platform": {"objectStore": {"secretName": "my-s3"}}}}, "my-s3"),
    "postgresql": ({"postgresql": {"auth": {"existingSecret": "my-pg"}}}, "my-pg"),
    "mysql": ({"mysql": {"auth": {"existingSecret": "my-mysql"}}}, "my-mysql"),
    "minio": ({"minio": {"auth": {"existingSecret": "my-minio"}}}, "my-minio"),
}
DEFAULT_NAMES = {
    "dataDatabase": "proyecto4-data-db",
    "airflowAdmin": "proyecto4-airflow-admin",
    "mlflowDatabase": "proyecto4-mlflow-db",
    "objectStore": "proyecto4-object-store",
    "postgresql": "proyecto4-postgresql-auth",
    "mysql": "proyecto4-mysql-auth",
    "minio": "proyecto4-minio-auth",
}


@pytest.mark.parametrize("key", sorted(SECRET_VALUES))
def test_pods_read_the_secret_their_value_names(key):
    values, name = SECRET_VALUES[key]
    default = render_chart()
    changed = render_chart(values=values)
    before, after = referenced_secrets(default), referenced_secrets(changed)

    assert DEFAULT_NAMES[key] in before
    assert name in after and DEFAULT_NAMES[key] not in after
    # The generated Secret moves with the value, so every reference is satisfied.
    rendered = {o["metadata"]["name"] for o in changed if o["kind"] == "Secret"}
    assert name in rendered and DEFAULT_NAMES[key] not in rendered
    assert not re.search(rf"\b{DEFAULT_NAMES[key]}\b(?!-)", yaml.safe_dump_all(changed))


def secret_names(objects: list[dict]) -> set[str]:
    return {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}


def test_two_releases_in_one_namespace_share_only_the_documented_literal_secret_names():
    values = yaml.safe_load((Path(__file__).resolve().parents[2] / "values.yaml").read_text())
    literal = set()
    for path in (*AIRFLOW_LITERAL_SECRETS, GRAFANA_LITERAL_SECRET):
        node = values if path[0] == "kube-prometheus-stack" else values["airflow"]
        for part in path:
            node = node[part]
        literal.add(node)
    alpha, beta = render_chart(release="alpha"), render_chart(release="beta")

    assert secret_names(alpha) & secret_names(beta) == literal

    own = {
        "airflow": {
            "data": {"metadataSecretName": "beta-airflow-metadata"},
            "fernetKeySecretName": "beta-airflow-fernet-key",
            "apiSecretKeySecretName": "beta-airflow-api-secret-key",
            "jwtSecretName": "beta-airflow-jwt-secret",
        },
        "kube-prometheus-stack": {"grafana": {"admin": {"existingSecret": "beta-grafana-admin"}}},
    }
    beta = render_chart(release="beta", values=own)
    assert not secret_names(alpha) & secret_names(beta)
    assert not referenced_secrets(alpha) & referenced_secrets(beta)


def test_nothing_renders_the_unread_airflow_data_connection():
    for layer in LAYERS.values():
        assert "AIRFLOW_CONN_PROYECTO4_DATA" not in yaml.safe_dump_all(
            render_chart(value_files=layer)
        )


@pytest.mark.parametrize(
    ("chart", "address"),
    [
        ("inference-api", "INFERENCE_API_URL"),
        ("mlflow", "MLFLOW_TRACKING_URI"),
        ("data-source", "DATA_SOURCE_URL"),
        ("streamlit", None),
    ],
)
def test_a_subchart_port_is_one_value(chart, address):
    objects = render_chart(values={chart: {"service": {"port": 18123}}})
    name = f"proyecto4-{chart}"
    service = find(objects, "Service", name)["spec"]["ports"][0]
    pod = find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
    policy = find(objects, "NetworkPolicy", name)["spec"]["ingress"][0]["ports"]

    assert (service["port"], service["targetPort"]) == (18123, "http")
    assert pod["ports"][0] == {"name": "http", "containerPort": 18123, "protocol": "TCP"}
    assert "18123" in pod["command"]
    assert {probe["httpGet"]["port"] for k, probe in pod.items() if k.endswith("Probe")} == {"http"}
    assert policy == [{"port": 18123, "protocol": "TCP"}]
    if address:
        addresses = find(objects, "ConfigMap", "proyecto4-addresses")["data"]
        assert addresses[address].endswith(":18123")


def test_the_local_ports_are_the_charts_ports():
    """names.PORTS (the CLI's and the local defaults) and the charts say the same port for
    each component, so a URL that works locally works in the cluster with the Service name."""
    from proyecto4_common.names import PORTS

    def chart_port(chart: str) -> int:
        return yaml.safe_load((ROOT / "chart" / chart / "values.yaml").read_text())["service"][
            "port"
        ]

    values = yaml.safe_load((ROOT / "values.yaml").read_text())
    assert {
        "api": chart_port("inference-api"),
        "ui": chart_port("streamlit"),
        "mlflow": chart_port("mlflow"),
        "data-source": chart_port("data-source"),
        "airflow": (values["airflow"].get("ports") or {}).get("apiServer", 8080),
    } == {k: PORTS[k] for k in ("api", "ui", "mlflow", "data-source", "airflow")}
