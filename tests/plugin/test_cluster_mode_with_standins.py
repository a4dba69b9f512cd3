"""Cluster mode end to end, with stand-ins for kubectl and helm (tests/plugin/standins/)
that describe a release `r` and "port-forward" to the real inference API and MLflow and to
a small fake Airflow API. Helm knows no release there (every `helm status`/`helm get`
fails), as when Argo CD installed the chart with `helm template`: what the plugin needs of
the release comes from the release-facts ConfigMap the chart renders."""

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from chart.chart_render import render_chart
from helm_plugin_env import PLUGIN_ADMIN_TOKEN, REPO, plugin_errors, served_version
from proyecto4_common.names import DAG_ID, PRODUCTION_ALIAS
from proyecto4_plugin.airflow import release_login
from proyecto4_plugin.endpoints import mlflow_auth, mlflow_release_login
from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.kube import Cluster
from servers import send_json

STANDINS = REPO / "tests/plugin/standins"
RELEASE_FACTS = "templates/configmap-release.yaml"
# The release's Secret names and Airflow admin as a site sets them: nothing the plugin
# could guess from the release name, so they can only come from the release-facts ConfigMap.
SITE_PLATFORM = {
    "airflowAdmin": {"username": "ops", "secretName": "site-airflow-login"},
    "mlflowAuth": {"secretName": "site-mlflow-users"},
}
AIRFLOW_LOGIN = {"username": "ops", "password": "s3cret"}
API_SELECTOR = {
    "app.kubernetes.io/name": "inference-api",
    "app.kubernetes.io/instance": "r",
    "app.kubernetes.io/component": "server",
}


def labelled(kind, name, labels, **fields):
    return {"kind": kind, "metadata": {"name": name, "labels": labels}, **fields}


def api_pod(name):
    return labelled(
        "Pod",
        name,
        API_SELECTOR,
        spec={"containers": [{"ports": [{"name": "http", "containerPort": 8989}]}]},
        status={"conditions": [{"type": "Ready", "status": "True"}]},
    )


def release_facts(release: str) -> dict:
    """The release-facts ConfigMap the chart renders for `release` with SITE_PLATFORM."""
    values = {"global": {"platform": SITE_PLATFORM}}
    (configmap,) = render_chart(release=release, values=values, show_only=RELEASE_FACTS)
    return configmap


class FakeAirflow(BaseHTTPRequestHandler):
    """Airflow 3's /auth/token (for AIRFLOW_LOGIN only) and the DAG's runs (with its token)."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/auth/token" and body == AIRFLOW_LOGIN:
            send_json(self, 201, {"access_token": "token-of-ops"})
        else:
            send_json(self, 401, {"detail": "Invalid credentials"})

    def do_GET(self):
        if self.headers.get("Authorization") != "Bearer token-of-ops":
            send_json(self, 401, {"detail": "Not authenticated"})
        elif self.path.startswith(f"/api/v2/dags/{DAG_ID}/dagRuns"):
            run = {"dag_run_id": "scheduled__2026-11-30", "state": "success"}
            send_json(self, 200, {"dag_runs": [run], "total_entries": 1})
        else:
            send_json(self, 404, {"detail": "Not found"})

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def airflow_port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def secret(name: str, **data: str) -> dict:
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    return {"kind": "Secret", "metadata": {"name": name}, "data": encoded}


@pytest.fixture
def cluster(tmp_path, api_url, trained_model, airflow_port):
    """Release r in namespace team-a: two API pods, MLflow, a PostgreSQL not ready yet, Airflow."""
    api_port = api_url.rsplit(":", 1)[1]
    mlflow_port = trained_model.tracking_uri.rsplit(":", 1)[1]
    instance = {"app.kubernetes.io/instance": "r"}
    objects = [
        labelled(
            "Service",
            "r-inference-api",
            {**API_SELECTOR},
            spec={
                "ports": [{"name": "http", "port": 8989, "targetPort": "http"}],
                "selector": API_SELECTOR,
            },
        ),
        labelled(
            "Service",
            "r-mlflow",
            {**instance, "app.kubernetes.io/name": "mlflow"},
            spec={"ports": [{"name": "http", "port": 5000}]},
        ),
        api_pod("r-inference-api-a"),
        api_pod("r-inference-api-b"),
        labelled(
            "Deployment",
            "r-inference-api",
            {**instance, "app.kubernetes.io/name": "inference-api"},
            spec={
                "replicas": 2,
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "env": [
                                    {
                                        "name": "INFERENCE_API_ADMIN_TOKEN",
                                        "valueFrom": {
                                            "secretKeyRef": {"name": "r-api-admin", "key": "token"}
                                        },
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
            status={"readyReplicas": 2},
        ),
        {
            "kind": "Secret",
            "metadata": {"name": "r-api-admin"},
            "data": {"token": base64.b64encode(PLUGIN_ADMIN_TOKEN.encode()).decode()},
        },
        labelled("StatefulSet", "r-postgresql", instance, spec={"replicas": 1}, status={}),
        labelled(
            "Service",
            "r-api-server",
            {"release": "r", "component": "api-server"},
            spec={"ports": [{"name": "airflow-ui", "port": 8080}]},
        ),
        release_facts("r"),
        secret("site-airflow-login", password=AIRFLOW_LOGIN["password"]),
        secret(
            "site-mlflow-users", **{"admin-username": "admin", "admin-password": "mlflow-s3cret"}
        ),
        labelled(
            "Deployment",
            "r-api-server",
            {"release": "r", "component": "api-server"},
            spec={"replicas": 1},
            status={"readyReplicas": 1},
        ),
    ]
    forwards = {
        "svc/r-inference-api": api_port,
        "svc/r-mlflow": mlflow_port,
        "pod/r-inference-api-a": api_port,
        "pod/r-inference-api-b": api_port,
        # The fake Airflow: it answers the admin's login only.
        "svc/r-api-server": airflow_port,
    }
    cluster = {"objects": objects, "forwards": forwards}
    (tmp_path / "cluster.json").write_text(json.dumps(cluster))
    return tmp_path


@pytest.fixture
def helm_proyecto4(cluster, model_copy):
    """Runs the plugin as Helm runs it: namespace and context in HELM_* variables."""

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            # Empty: the token and the logins must come from the release's Secrets.
            "INFERENCE_API_ADMIN_TOKEN": "",
            "AIRFLOW_USERNAME": "",
            "MLFLOW_TRACKING_USERNAME": "",
            "PYTHONPATH": str(REPO / "plugin"),
            "HELM_NAMESPACE": "team-a",
            "HELM_KUBECONTEXT": "kind-x",
            "HELM_BIN": str(STANDINS / "helm"),
            "KUBECTL": str(STANDINS / "kubectl"),
            "STANDIN_CLUSTER": str(cluster / "cluster.json"),
            "STANDIN_LOG": str(cluster / "calls.log"),
        }
        command = [sys.executable, "-m", "proyecto4_plugin", *args, "--model-name", model_copy[0]]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    return run


def calls(cluster) -> list[str]:
    return (cluster / "calls.log").read_text().splitlines()


def helm_calls(cluster) -> list[str]:
    """What the plugin asked the stand-in helm (which knows no release)."""
    return [line for line in calls(cluster) if line.startswith("helm ")]


FACTS_LOOKUP = (
    "--context kind-x --namespace team-a get configmaps "
    "-l app.kubernetes.io/instance=r,app.kubernetes.io/component=release-facts -o json"
)


def test_status_lists_the_release_workloads_and_flags_what_is_not_ready(
    helm_proyecto4, cluster, production_v1
):
    done = helm_proyecto4("status", "r", "--rate-window", "0")
    assert done.returncode == 1, done.stderr
    assert "release r (namespace team-a)" in done.stdout
    assert "ready      Deployment r-inference-api: 2/2 ready" in done.stdout
    assert "ready      Deployment r-api-server: 1/1 ready" in done.stdout
    assert "NOT READY  StatefulSet r-postgresql: 0/1 ready" in done.stdout
    assert f"production model: {production_v1[0]} v1" in done.stdout
    # Logged in to Airflow as the admin the release-facts ConfigMap names, with the password
    # of the Secret it names: the fake Airflow lets no one else see the DAG's runs.
    assert "last DAG run: scheduled__2026-11-30 success" in done.stdout
    assert "inference API: serves v1" in done.stdout
    assert "--context kind-x --namespace team-a get secret site-airflow-login -o json" in calls(
        cluster
    )
    assert helm_calls(cluster) == []


def test_every_call_names_the_namespace_and_context_helm_handed_over(
    helm_proyecto4, cluster, production_v1
):
    assert helm_proyecto4("smoke", "r").returncode == 0
    made = calls(cluster)
    # The release is found by its release-facts ConfigMap, never asked of Helm.
    assert made[0] == FACTS_LOOKUP
    assert all(line.startswith("--context kind-x --namespace team-a ") for line in made), made
    assert (
        "--context kind-x --namespace team-a port-forward --address 127.0.0.1 svc/r-inference-api :8989"
        in made
    )


def test_promote_and_rollback_reload_every_api_pod_without_a_helm_release(
    helm_proyecto4, cluster, api_url, production_v1
):
    name, client = production_v1
    done = helm_proyecto4("promote", "r", "--version", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        "inference API pod r-inference-api-a now serves v2",
        "inference API pod r-inference-api-b now serves v2",
    ]
    assert client.get_model_version_by_alias(name, PRODUCTION_ALIAS).version == "2"
    assert served_version(api_url) == "2"
    made = calls(cluster)
    # The token came from the Secret the API's Deployment names, not from the environment;
    # MLflow's admin from the Secret the release-facts ConfigMap names.
    assert "--context kind-x --namespace team-a get secret r-api-admin -o json" in made
    assert "--context kind-x --namespace team-a get secret site-mlflow-users -o json" in made

    done = helm_proyecto4("rollback", "r")
    assert done.returncode == 0, done.stderr
    assert client.get_model_version_by_alias(name, PRODUCTION_ALIAS).version == "1"
    assert served_version(api_url) == "1"
    assert helm_calls(cluster) == []


def test_a_release_that_is_not_installed_is_one_line(helm_proyecto4):
    done = helm_proyecto4("smoke", "other")
    assert done.returncode == 1
    assert plugin_errors(done.stderr) == [
        "helm proyecto4 smoke: release other not found in namespace team-a: no ConfigMap "
        "labelled app.kubernetes.io/instance=other,app.kubernetes.io/component=release-facts "
        "(install the release from the proyecto4 chart, with Helm or Argo CD)"
    ]


def standin_cluster(tmp_path, monkeypatch, objects: list[dict]) -> Cluster:
    """A Cluster whose kubectl is the stand-in, over `objects` (no helm at all)."""
    (tmp_path / "cluster.json").write_text(json.dumps({"objects": objects, "forwards": {}}))
    monkeypatch.setenv("STANDIN_CLUSTER", str(tmp_path / "cluster.json"))
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "calls.log"))
    return Cluster("team-a", "kind-x", str(STANDINS / "kubectl"))


def test_without_its_release_facts_a_release_is_not_found(tmp_path, monkeypatch):
    # Release r's workloads are there, its release-facts ConfigMap is not (not installed
    # from this chart): the plugin says so rather than guess.
    workload = {"app.kubernetes.io/instance": "r", "app.kubernetes.io/name": "inference-api"}
    standins = standin_cluster(
        tmp_path, monkeypatch, [labelled("Deployment", "r-inference-api", workload)]
    )
    with pytest.raises(PluginError) as failure:
        standins.release_facts("r")
    assert str(failure.value) == (
        "release r not found in namespace team-a: no ConfigMap labelled "
        "app.kubernetes.io/instance=r,app.kubernetes.io/component=release-facts "
        "(install the release from the proyecto4 chart, with Helm or Argo CD)"
    )


def test_the_release_facts_of_another_release_are_not_ours(tmp_path, monkeypatch):
    standins = standin_cluster(tmp_path, monkeypatch, [release_facts("other")])
    with pytest.raises(PluginError, match="release r not found in namespace team-a"):
        standins.release_facts("r")
    assert standins.release_facts("other")["mlflowAuthSecretName"] == "site-mlflow-users"


def test_the_airflow_login_is_the_admin_the_release_facts_name(tmp_path, monkeypatch):
    standins = standin_cluster(
        tmp_path,
        monkeypatch,
        [release_facts("r"), secret("site-airflow-login", password="s3cret")],
    )
    assert release_login(standins, standins.release_facts("r")) == ("ops", "s3cret")
    assert calls(tmp_path) == [
        FACTS_LOOKUP,
        "--context kind-x --namespace team-a get secret site-airflow-login -o json",
    ]


def test_mlflow_calls_log_in_as_the_mlflow_admin_the_release_facts_name(tmp_path, monkeypatch):
    users = {"admin-username": "admin", "admin-password": "mlflow-s3cret"}
    standins = standin_cluster(
        tmp_path, monkeypatch, [release_facts("r"), secret("site-mlflow-users", **users)]
    )
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    login = mlflow_release_login(standins, standins.release_facts("r"))
    assert login == ("admin", "mlflow-s3cret")
    assert calls(tmp_path) == [
        FACTS_LOOKUP,
        "--context kind-x --namespace team-a get secret site-mlflow-users -o json",
    ]
    assert mlflow_auth(login) == {"auth": ("admin", "mlflow-s3cret")}
    # The user's own credentials win over the release's.
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "someone")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "theirs")
    assert mlflow_auth(login) == {"auth": ("someone", "theirs")}


def test_a_release_without_airflow_or_mlflow_auth_has_no_login_to_read(tmp_path, monkeypatch):
    values = {"airflow": {"enabled": False}, "mlflow": {"auth": {"enabled": False}}}
    (facts,) = render_chart(release="r", values=values, show_only=RELEASE_FACTS)
    standins = standin_cluster(tmp_path, monkeypatch, [facts])
    found = standins.release_facts("r")
    assert (release_login(standins, found), mlflow_release_login(standins, found)) == (None, None)
    # No Secret is asked for: the ConfigMap says there is none to read.
    assert calls(tmp_path) == [FACTS_LOOKUP]
