"""Cluster mode end to end, with stand-ins for kubectl and helm (tests/plugin/standins/)
that describe a release `r` and "port-forward" to the real inference API and MLflow."""

import base64
import json
import os
import subprocess
import sys

import pytest
from helm_plugin_env import PLUGIN_ADMIN_TOKEN, REPO, plugin_errors, served_version
from proyecto4_common.names import PRODUCTION_ALIAS
from proyecto4_common.net import free_port

STANDINS = REPO / "tests/plugin/standins"
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


@pytest.fixture
def cluster(tmp_path, api_url, trained_model):
    """Release r in namespace team-a: two API pods, MLflow, a PostgreSQL not ready yet."""
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
        {
            "kind": "Secret",
            "metadata": {"name": "proyecto4-airflow-admin"},
            "data": {"password": base64.b64encode(b"s3cret").decode()},
        },
        {
            "kind": "Secret",
            "metadata": {"name": "proyecto4-mlflow-auth"},
            "data": {
                "admin-username": base64.b64encode(b"admin").decode(),
                "admin-password": base64.b64encode(b"mlflow-s3cret").decode(),
            },
        },
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
        # Nothing answers there: the plugin logs in to Airflow and finds it down.
        "svc/r-api-server": free_port(),
    }
    values = {
        "global": {
            "platform": {
                "airflowAdmin": {"secretName": "proyecto4-airflow-admin"},
                "mlflowAuth": {"secretName": "proyecto4-mlflow-auth"},
            }
        }
    }
    cluster = {"objects": objects, "forwards": forwards, "values": values}
    (tmp_path / "cluster.json").write_text(json.dumps(cluster))
    return tmp_path


@pytest.fixture
def helm_proyecto4(cluster, model_copy):
    """Runs the plugin as Helm runs it: namespace and context in HELM_* variables."""

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            # Empty: the token must come from the release's Secret.
            "INFERENCE_API_ADMIN_TOKEN": "",
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
    assert (
        "last DAG run: unknown (Airflow API server is not reachable at http://127.0.0.1:"
        in done.stdout
    )
    assert "inference API: serves v1" in done.stdout


def test_every_call_names_the_namespace_and_context_helm_handed_over(
    helm_proyecto4, cluster, production_v1
):
    assert helm_proyecto4("smoke", "r").returncode == 0
    made = calls(cluster)
    assert made[0] == "status r --namespace team-a --kube-context kind-x"
    assert all(
        line.startswith("--context kind-x --namespace team-a ")  # kubectl
        or line.endswith(" --namespace team-a --kube-context kind-x")  # helm
        for line in made[1:]
    ), made
    assert (
        "--context kind-x --namespace team-a port-forward --address 127.0.0.1 svc/r-inference-api :8989"
        in made
    )


def test_promote_reloads_every_api_pod(helm_proyecto4, cluster, api_url, production_v1):
    name, client = production_v1
    done = helm_proyecto4("promote", "r", "--version", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        "inference API pod r-inference-api-a now serves v2",
        "inference API pod r-inference-api-b now serves v2",
    ]
    assert client.get_model_version_by_alias(name, PRODUCTION_ALIAS).version == "2"
    assert served_version(api_url) == "2"
    # The token came from the Secret the API's Deployment names, not from the environment.
    assert "--context kind-x --namespace team-a get secret r-api-admin -o json" in calls(cluster)


def test_a_release_that_is_not_installed_is_one_line(helm_proyecto4):
    done = helm_proyecto4("smoke", "other")
    assert done.returncode == 1
    assert plugin_errors(done.stderr) == [
        "helm proyecto4 smoke: release other not found in namespace team-a"
    ]


def test_status_logs_in_to_airflow_with_the_admin_secret_of_the_release(cluster, monkeypatch):
    from proyecto4_plugin.airflow import release_login
    from proyecto4_plugin.kube import Cluster

    monkeypatch.setenv("STANDIN_CLUSTER", str(cluster / "cluster.json"))
    monkeypatch.setenv("STANDIN_LOG", str(cluster / "calls.log"))
    standins = Cluster("team-a", "kind-x", str(STANDINS / "helm"), str(STANDINS / "kubectl"))
    assert release_login(standins, "r") == ("admin", "s3cret")
    assert calls(cluster) == [
        "get values r --all -o json --namespace team-a --kube-context kind-x",
        "--context kind-x --namespace team-a get secret proyecto4-airflow-admin -o json",
    ]


def test_mlflow_calls_log_in_as_the_mlflow_admin_of_the_release(tmp_path, monkeypatch):
    from proyecto4_plugin.endpoints import mlflow_auth, mlflow_release_login
    from proyecto4_plugin.kube import Cluster

    secret = {
        "kind": "Secret",
        "metadata": {"name": "proyecto4-mlflow-auth"},
        "data": {
            "admin-username": base64.b64encode(b"admin").decode(),
            "admin-password": base64.b64encode(b"mlflow-s3cret").decode(),
        },
    }
    values = {"global": {"platform": {"mlflowAuth": {"secretName": "proyecto4-mlflow-auth"}}}}
    (tmp_path / "cluster.json").write_text(
        json.dumps({"objects": [secret], "forwards": {}, "values": values})
    )
    cluster = tmp_path
    monkeypatch.setenv("STANDIN_CLUSTER", str(cluster / "cluster.json"))
    monkeypatch.setenv("STANDIN_LOG", str(cluster / "calls.log"))
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    standins = Cluster("team-a", "kind-x", str(STANDINS / "helm"), str(STANDINS / "kubectl"))
    login = mlflow_release_login(standins, "r")
    assert login == ("admin", "mlflow-s3cret")
    assert (
        calls(cluster)[-1]
        == "--context kind-x --namespace team-a get secret proyecto4-mlflow-auth -o json"
    )
    assert mlflow_auth(login) == {"auth": ("admin", "mlflow-s3cret")}
    # The user's own credentials win over the release's.
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "someone")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "theirs")
    assert mlflow_auth(login) == {"auth": ("someone", "theirs")}
