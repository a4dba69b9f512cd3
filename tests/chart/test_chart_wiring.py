"""How the parts are wired: generated Secrets, references between objects, the dependencies'
values (Airflow, Bitnami, kube-prometheus-stack), dev NodePorts and the values files."""

from __future__ import annotations

import base64
import fnmatch
import re
from urllib.parse import urlsplit

import pytest
import yaml
from chart.chart_render import (
    LAYERS,
    ROOT,
    find,
    is_ours,
    pod_specs,
    real_deps_dir,
    render_chart,
    render_with_sources,
)
from chart.values_comments import empty_comments, uncommented_keys


def secret_data(objects: list[dict], name: str) -> dict[str, str]:
    return {
        k: base64.b64decode(v).decode() for k, v in find(objects, "Secret", name)["data"].items()
    }


def umbrella_secrets(values: dict | None = None, files: tuple = ()) -> list[dict]:
    return [
        o
        for s, o in render_with_sources(values=values, value_files=files)
        if s == "proyecto4/templates/secret-generated.yaml"
    ]


def test_generated_connection_strings_use_the_generated_passwords():
    objects = umbrella_secrets()
    postgres = secret_data(objects, "proyecto4-postgresql-auth")
    data_db = urlsplit(secret_data(objects, "proyecto4-data-db")["DATA_DB_URL"])
    airflow_db = urlsplit(secret_data(objects, "proyecto4-airflow-metadata")["connection"])
    mlflow_db = urlsplit(secret_data(objects, "proyecto4-mlflow-db")["MLFLOW_BACKEND_STORE_URI"])
    minio = secret_data(objects, "proyecto4-minio-auth")
    s3 = secret_data(objects, "proyecto4-object-store")

    assert (data_db.scheme, data_db.hostname, data_db.port, data_db.path) == (
        "postgresql+psycopg",
        "proyecto4-postgresql",
        5432,
        "/proyecto4",
    )
    assert (data_db.username, data_db.password) == ("proyecto4", postgres["password"])
    assert (airflow_db.scheme, airflow_db.path, airflow_db.password) == (
        "postgresql",
        "/airflow",
        postgres["password"],
    )
    assert (mlflow_db.scheme, mlflow_db.hostname, mlflow_db.path) == (
        "mysql+pymysql",
        "proyecto4-mysql",
        "/mlflow",
    )
    assert mlflow_db.password == secret_data(objects, "proyecto4-mysql-auth")["mysql-password"]
    assert (s3["AWS_ACCESS_KEY_ID"], s3["AWS_SECRET_ACCESS_KEY"]) == (
        minio["root-user"],
        minio["root-password"],
    )
    assert len(postgres["password"]) >= 24 and postgres["password"] != postgres["postgres-password"]


def test_generated_secrets_are_kept_on_uninstall():
    objects = umbrella_secrets()

    assert len(objects) == 14
    assert {o["metadata"]["annotations"]["helm.sh/resource-policy"] for o in objects} == {"keep"}


def test_airflow_keys_have_the_formats_airflow_expects():
    objects = umbrella_secrets()
    fernet = secret_data(objects, "proyecto4-airflow-fernet-key")["fernet-key"]

    assert len(base64.urlsafe_b64decode(fernet)) == 32
    assert len(secret_data(objects, "proyecto4-airflow-jwt-secret")["jwt-secret"]) == 32
    assert len(secret_data(objects, "proyecto4-airflow-api-secret-key")["api-secret-key"]) == 32


@pytest.mark.parametrize(
    ("values", "files", "expected"),
    [
        ({"generatedSecrets": {"enabled": False}}, (), set()),
        (
            {},
            LAYERS["prod"],
            {
                "proyecto4-airflow-admin",
                "proyecto4-airflow-api-secret-key",
                "proyecto4-airflow-fernet-key",
                "proyecto4-airflow-jwt-secret",
                "proyecto4-grafana-admin",
                # MLflow's users do not depend on where MySQL runs.
                "proyecto4-mlflow-auth",
                "proyecto4-inference-api-admin",
            },
        ),
        (
            {
                "postgresql": {"enabled": False},
                "mysql": {"enabled": False},
                "minio": {"enabled": False},
                "airflow": {"enabled": False},
                "kube-prometheus-stack": {"enabled": False},
                "mlflow": {"auth": {"enabled": False}},
            },
            (),
            {"proyecto4-inference-api-admin"},
        ),
    ],
)
def test_secrets_are_generated_only_for_in_cluster_servers(values, files, expected):
    assert {o["metadata"]["name"] for o in umbrella_secrets(values or None, files)} == expected


def referenced_secrets(objects: list[dict]) -> set[str]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key in ("secretRef", "secretKeyRef"):
                if key in node:
                    found.add(node[key]["name"])
            if isinstance(node.get("secret"), dict) and "secretName" in node["secret"]:
                found.add(node["secret"]["secretName"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([spec for _, spec in pod_specs(objects)])
    return found


# Created at run time by kube-prometheus-stack's admission webhook Job.
CREATED_AT_RUN_TIME = {"proyecto4-kube-prometheus-admission"}
# The Secrets prod.yaml asks the operator to create (external servers).
PROVIDED_IN_PROD = {
    "proyecto4-data-db",
    "proyecto4-airflow-metadata",
    "proyecto4-mlflow-db",
    "proyecto4-object-store",
}


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_every_referenced_secret_is_rendered(layer_name):
    objects = render_chart(value_files=LAYERS[layer_name])
    rendered = {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}
    allowed = CREATED_AT_RUN_TIME | (PROVIDED_IN_PROD if layer_name == "prod" else set())

    assert referenced_secrets(objects) - rendered - allowed == set()


def secret_like_values(node, path=()) -> list[str]:
    """Paths of keys that hold a password or token (not the name of a Secret or key holding one)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            lowered = str(key).lower()
            names_a_reference = lowered.endswith(("key", "secret", "secretname", "ref"))
            holds_a_value = value not in ("", None) and not isinstance(value, (dict, list, bool))
            if (
                any(w in lowered for w in ("password", "token"))
                and not names_a_reference
                and holds_a_value
            ):
                found.append(".".join((*path, str(key))))
            found += secret_like_values(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += secret_like_values(value, (*path, str(index)))
    return found


@pytest.mark.parametrize("path", ["values.yaml", "values/dev.yaml", "values/prod.yaml"])
def test_values_files_hold_no_password(path):
    assert secret_like_values(yaml.safe_load((ROOT / path).read_text())) == []


def test_the_airflow_admin_password_comes_from_a_secret():
    job = yaml.safe_load((ROOT / "values.yaml").read_text())["airflow"]["createUserJob"]

    # The chart templates extraVolumes (not env): the Secret follows its value.
    assert job["extraVolumes"][0]["secret"]["secretName"] == (
        '{{ include "proyecto4.secretName" (dict "ctx" . "key" "airflowAdmin") }}'
    )
    mount = job["extraVolumeMounts"][0]["mountPath"]
    assert f'-p "$(cat {mount}/password)"' in job["args"][-1]


@pytest.mark.parametrize("path", ["values.yaml", "values/dev.yaml", "values/prod.yaml"])
def test_every_value_has_a_comment(path):
    # The monitoring block belongs to the observability templates and is checked by their tests.
    missing = [
        key
        for key in uncommented_keys((ROOT / path).read_text())
        if not key.startswith("monitoring")
    ]

    assert missing == []


@pytest.mark.parametrize(
    "path",
    [
        "values.yaml",
        "values/dev.yaml",
        "values/prod.yaml",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "chart").glob("*/values.yaml")),
    ],
)
def test_no_value_has_a_one_word_comment(path):
    # "# On.", "# Ceiling.", "# Tag." restate the key; a comment says what a user needs.
    assert empty_comments((ROOT / path).read_text()) == []


def test_every_subchart_value_has_a_comment():
    missing = {
        chart.parent.name: uncommented_keys(chart.read_text())
        for chart in sorted((ROOT / "chart").glob("*/values.yaml"))
    }

    assert {name: keys for name, keys in missing.items() if keys} == {}


def test_airflow_values_are_argo_cd_friendly_and_external_db():
    values = yaml.safe_load((ROOT / "values.yaml").read_text())["airflow"]

    assert values["executor"] == "KubernetesExecutor"
    assert values["postgresql"]["enabled"] is False
    assert values["data"]["metadataSecretName"] == "proyecto4-airflow-metadata"
    assert values["migrateDatabaseJob"]["useHelmHooks"] is False
    assert values["createUserJob"]["useHelmHooks"] is False
    assert set(values["dags"]["gitSync"]) >= {"enabled", "repo", "branch", "subPath"}
    assert values["apiServer"]["service"]["type"] == "ClusterIP"


# ----- with the real dependency charts -----------------------------------------------------

needs_real_deps = pytest.mark.skipif(
    real_deps_dir() is None, reason="needs the real dependency charts (PROYECTO4_DEPS_DIR)"
)


def dependency_objects(files: tuple = ()) -> list[dict]:
    return [o for s, o in render_with_sources(value_files=files) if not is_ours(s)]


@needs_real_deps
@pytest.mark.parametrize("layer_name", ["base", "dev"])
def test_bitnami_images_come_from_bitnamilegacy(layer_name):
    images = {
        c["image"]
        for label, spec in pod_specs(dependency_objects(LAYERS[layer_name]))
        for c in (spec.get("initContainers") or []) + spec["containers"]
        if "bitnami" in c["image"]
    }

    assert images, "no Bitnami image rendered"
    assert {i for i in images if not i.startswith("docker.io/bitnamilegacy/")} == set()


@needs_real_deps
def test_airflow_runs_the_kubernetes_executor_on_our_database():
    objects = dependency_objects()
    scheduler = find(objects, "Deployment", "proyecto4-scheduler")["spec"]["template"]["spec"]
    env = {e["name"]: e for c in scheduler["containers"] for e in c.get("env", [])}
    migrate = find(objects, "Job", "proyecto4-run-airflow-migrations")

    config = find(objects, "ConfigMap", "proyecto4-config")["data"]["airflow.cfg"]

    assert re.search(r"^executor = KubernetesExecutor$", config, re.MULTILINE)
    assert (
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]["valueFrom"]["secretKeyRef"]["name"]
        == "proyecto4-airflow-metadata"
    )
    assert {"configMapRef": {"name": "proyecto4-addresses"}} in scheduler["containers"][0][
        "envFrom"
    ]
    assert {"secretRef": {"name": "proyecto4-data-db"}} in scheduler["containers"][0]["envFrom"]
    assert "helm.sh/hook" not in migrate["metadata"].get("annotations", {})
    assert scheduler["containers"][0]["image"] == "ghcr.io/proyecto4/proyecto4-airflow:0.1.0"


@needs_real_deps
def test_prod_pulls_dags_with_git_sync():
    objects = dependency_objects(LAYERS["prod"])
    spec = find(objects, "Deployment", "proyecto4-dag-processor")["spec"]["template"]["spec"]
    git_sync = [c for c in spec["containers"] if c["name"] == "git-sync"]

    assert len(git_sync) == 1
    env = {e["name"]: e.get("value") for e in git_sync[0]["env"]}
    assert env["GITSYNC_REPO"] == "https://github.com/proyecto4/proyecto4.git"
    assert env["GITSYNC_REF"] == "main"


@needs_real_deps
def test_grafana_admin_from_secret_and_dashboard_sidecar():
    spec = find(dependency_objects(), "Deployment", "proyecto4-grafana")["spec"]["template"]["spec"]
    env = {e["name"]: e for c in spec["containers"] for e in c.get("env", [])}
    sidecar = [c for c in spec["containers"] if c["name"] == "grafana-sc-dashboard"]

    assert env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "proyecto4-grafana-admin",
        "key": "admin-password",
    }
    assert {"name": "LABEL", "value": "grafana_dashboard"} in sidecar[0]["env"]


@needs_real_deps
def test_dev_node_ports():
    services = {
        o["metadata"]["name"]: o["spec"]
        for o in render_chart(value_files=("values/dev.yaml",))
        if o["kind"] == "Service" and o["spec"].get("type") == "NodePort"
    }
    node_ports = {
        name: sorted(p["nodePort"] for p in spec["ports"] if "nodePort" in p)
        for name, spec in services.items()
    }

    assert node_ports == {
        "proyecto4-mlflow": [32000],
        "proyecto4-streamlit": [30501],
        "proyecto4-inference-api": [30989],
        "proyecto4-grafana": [30300],
        "proyecto4-kube-prometheus-prometheus": [30090],
        "proyecto4-api-server": [30080],
    }
    # A default kind or minikube cluster refuses NodePorts outside 30000-32767.
    assert all(30000 <= p <= 32767 for ports in node_ports.values() for p in ports)


def test_dev_node_ports_of_our_services():
    services = {
        o["metadata"]["name"]: o["spec"]
        for o in render_chart(value_files=("values/dev.yaml",))
        if o["kind"] == "Service" and o["spec"].get("type") == "NodePort"
    }

    assert {
        n: s["ports"][0]["nodePort"]
        for n, s in services.items()
        if not n.endswith(("grafana", "prometheus", "api-server"))
    } == {"proyecto4-mlflow": 32000, "proyecto4-streamlit": 30501, "proyecto4-inference-api": 30989}


@pytest.mark.parametrize(
    ("layer_name", "open_to_outside"), [("base", False), ("dev", True), ("prod", False)]
)
def test_node_port_services_let_outside_clients_through_their_network_policy(
    layer_name, open_to_outside
):
    objects = render_chart(value_files=LAYERS[layer_name])
    for service in ("inference-api", "streamlit", "mlflow"):
        sources = find(objects, "NetworkPolicy", f"proyecto4-{service}")["spec"]["ingress"][0][
            "from"
        ]

        assert ({"ipBlock": {"cidr": "0.0.0.0/0"}} in sources) is open_to_outside, service


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_mlflow_accepts_the_host_headers_its_clients_send(layer_name):
    """MLflow 3 refuses unknown Host headers (fnmatch patterns in MLFLOW_SERVER_ALLOWED_HOSTS)."""
    objects = render_chart(value_files=LAYERS[layer_name])
    patterns = find(objects, "ConfigMap", "proyecto4-mlflow")["data"][
        "MLFLOW_SERVER_ALLOWED_HOSTS"
    ].split(",")
    probe = find(objects, "Deployment", "proyecto4-mlflow")["spec"]["template"]["spec"][
        "containers"
    ][0]["readinessProbe"]
    probe_host = probe["httpGet"]["httpHeaders"][0]["value"]
    clients = [
        "proyecto4-mlflow:5000",
        "proyecto4-mlflow.proyecto4.svc.cluster.local:5000",
        probe_host,
    ]

    for host in clients:
        assert any(fnmatch.fnmatch(host, p) if "*" in p else host == p for p in patterns), host


def test_the_airflow_database_created_at_first_start_is_the_one_airflow_uses():
    values = yaml.safe_load((ROOT / "values.yaml").read_text())
    script = values["postgresql"]["primary"]["initdb"]["scripts"]["create-airflow-db.sql"]

    assert (
        script
        == f"CREATE DATABASE {values['global']['platform']['airflowDatabase']['name']} OWNER {{{{ .Values.auth.username }}}};"
    )


WAVE = "argocd.argoproj.io/sync-wave"


def wave(obj: dict) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(WAVE, 0))


def test_argocd_waves_order_our_objects():
    """Secrets (-3) before databases (-2), the MLflow migration and what it mounts (-1), servers (0)."""
    objects = render_chart()
    mlflow = {
        (o["kind"], o["metadata"]["name"]): wave(o)
        for o in objects
        if o["metadata"]["name"] == "proyecto4-mlflow"
    }

    assert {wave(o) for o in umbrella_secrets()} == {-3}
    # With them: the plugin finds the release (and the names of its Secrets) from the start.
    assert wave(find(objects, "ConfigMap", "proyecto4-release")) == -3
    assert wave(find(objects, "Job", "proyecto4-mlflow-db-migrate")) == -1
    assert mlflow == {
        ("ConfigMap", "proyecto4-mlflow"): -1,
        ("ServiceAccount", "proyecto4-mlflow"): -1,
        ("Deployment", "proyecto4-mlflow"): 0,
        ("Service", "proyecto4-mlflow"): 0,
        ("NetworkPolicy", "proyecto4-mlflow"): 0,
    }


@needs_real_deps
def test_argocd_waves_order_the_dependencies():
    objects = dependency_objects()
    servers = {
        wave(o)
        for o in objects
        if o["kind"] in ("StatefulSet", "Deployment")
        and o["metadata"]["name"] in ("proyecto4-postgresql", "proyecto4-mysql", "proyecto4-minio")
    }
    migration = find(objects, "Job", "proyecto4-run-airflow-migrations")
    needed_by_migration = [
        find(objects, "ConfigMap", "proyecto4-config"),
        find(
            objects, "ServiceAccount", migration["spec"]["template"]["spec"]["serviceAccountName"]
        ),
    ]

    assert servers == {-2}
    assert wave(migration) == -1
    assert [wave(o) for o in needed_by_migration] == [-1, -1]
    assert wave(find(objects, "Deployment", "proyecto4-scheduler")) == 0
