"""Argument handling and cluster-mode command construction, without a cluster."""

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from proyecto4_plugin import loadtest, release
from proyecto4_plugin.cli import build_parser
from proyecto4_plugin.endpoints import Endpoints, Targets
from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.inference_api import metric_total
from proyecto4_plugin.kube import Cluster, forwarded_port, port_forward
from proyecto4_plugin.smoke import check_prediction, sample_record
from proyecto4_plugin.status import age


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["status"], {"command": "status", "release": None, "rate_window": 5.0}),
        (["status", "prod", "--rate-window", "0"], {"release": "prod", "rate_window": 0.0}),
        (["promote", "r1", "--version", "7"], {"release": "r1", "version": "7"}),
        (["rollback", "r1", "--model-name", "other"], {"model_name": "other"}),
        (["smoke", "--api-url", "http://h:1"], {"release": None, "api_url": "http://h:1"}),
        (
            ["loadtest", "r1", "--users", "3", "--duration", "1m30s"],
            {"users": 3, "duration": "1m30s", "spawn_rate": 5.0},
        ),
    ],
)
def test_arguments_parse(argv, expected):
    args = vars(build_parser().parse_args(argv))
    assert {key: args[key] for key in expected} == expected


@pytest.mark.parametrize(
    "argv, message",
    [
        (["promote", "r1"], "the following arguments are required: --version"),
        (["loadtest", "r1", "--users", "0"], "argument --users: must be 1 or more"),
        (["loadtest", "r1", "--duration", "soon"], "duration 'soon' is not like 30s, 5m or 1h30m"),
        (["deploy"], "argument COMMAND: invalid choice: 'deploy'"),
    ],
)
def test_usage_mistakes_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(argv)
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


@pytest.mark.parametrize(
    "text, seconds", [("45s", 45), ("5m", 300), ("1h30m", 5400), ("2h", 7200), ("1m5s", 65)]
)
def test_durations_in_locust_format(text, seconds):
    assert loadtest.duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "1.5m", "-3s"])
def test_bad_durations_are_refused(text):
    with pytest.raises(PluginError):
        loadtest.duration_seconds(text)


# -- cluster mode: what Helm hands to plugins ------------------------------------------


@pytest.mark.parametrize(
    "env, kubectl",
    [
        ({}, ["kubectl", "--namespace", "default", "get", "svc"]),
        (
            {"HELM_NAMESPACE": "team-a", "HELM_KUBECONTEXT": "kind-x", "KUBECTL": "/opt/kubectl"},
            ["/opt/kubectl", "--context", "kind-x", "--namespace", "team-a", "get", "svc"],
        ),
    ],
)
def test_commands_carry_the_namespace_and_context_helm_hands_over(env, kubectl):
    cluster = Cluster.from_env(env)
    assert cluster.kubectl("get", "svc") == kubectl


@pytest.mark.parametrize(
    "line, port",
    [
        ("Forwarding from 127.0.0.1:43567 -> 8989\n", 43567),
        ("Forwarding from [::1]:43567 -> 8989\n", None),
        ("Handling connection for 43567\n", None),
    ],
)
def test_port_forward_announcement(line, port):
    assert forwarded_port(line) == port


@pytest.mark.parametrize(
    "stderr, line",
    [
        (
            (
                'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:9/version": '
                "dial tcp 127.0.0.1:9: connect: connection refused\n"
            ),
            "no cluster reachable (Kubernetes cluster unreachable: Get",
        ),
        (
            "E1207 memcache.go:265] couldn't get current server API group list\n"
            "The connection to the server 127.0.0.1:9 was refused - did you specify the right host or port?\n",
            "no cluster reachable (The connection to the server 127.0.0.1:9 was refused",
        ),
        (
            "Unable to connect to the server: dial tcp: lookup gone.example: i/o timeout\n",
            "no cluster reachable (Unable to connect to the server",
        ),
        ('W1126 warning\nerror: pods "x" not found\n', 'pods "x" not found'),
    ],
)
def test_tool_errors_become_one_line(stderr, line):
    explained = Cluster("ns").explain(stderr)
    assert explained.startswith(line) and "\n" not in explained


def test_a_missing_kubectl_is_a_clear_error():
    cluster = Cluster("ns", kubectl_bin="/nonexistent/kubectl")
    with pytest.raises(PluginError, match="/nonexistent/kubectl is not installed"):
        cluster.run(cluster.kubectl("get", "svc"))


def test_cluster_mode_needs_a_release_name():
    with ExitStack() as stack, pytest.raises(PluginError, match="name the RELEASE"):
        Endpoints(Targets(release=None), stack).url("api")


def test_explicit_urls_never_touch_the_cluster():
    cluster = Cluster("ns", kubectl_bin="/nonexistent/kubectl")
    targets = Targets(release=None, api_url="http://127.0.0.1:1", mlflow_url="http://127.0.0.1:2")
    with ExitStack() as stack:
        endpoints = Endpoints(targets, stack, cluster)
        assert (endpoints.url("api"), endpoints.url("mlflow"), endpoints.cluster_mode) == (
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            False,
        )


def test_port_forward_runs_kubectl_with_namespace_context_and_a_random_local_port(tmp_path):
    # A stand-in kubectl that records its arguments and announces a port as kubectl does.
    record = tmp_path / "argv"
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(
        f'#!/bin/sh\necho "$@" > {record}\necho "Forwarding from 127.0.0.1:40123 -> 8989"\n'
        "exec sleep 30\n"
    )
    kubectl.chmod(0o755)
    cluster = Cluster("team-a", context="kind-x", kubectl_bin=str(kubectl))
    with port_forward(cluster, "svc/r-inference-api", 8989) as url:
        assert url == "http://127.0.0.1:40123"
    assert record.read_text().split() == [
        "--context", "kind-x", "--namespace", "team-a",
        "port-forward", "--address", "127.0.0.1", "svc/r-inference-api", ":8989",
    ]  # fmt: skip


def test_a_failing_port_forward_is_one_line(tmp_path):
    kubectl = tmp_path / "kubectl"
    kubectl.write_text("#!/bin/sh\necho 'error: services \"r-mlflow\" not found' >&2\nexit 1\n")
    kubectl.chmod(0o755)
    cluster = Cluster("ns", kubectl_bin=str(kubectl))
    with pytest.raises(PluginError) as failure, port_forward(cluster, "svc/r-mlflow", 5000):
        pass
    assert (
        str(failure.value) == 'port-forward to svc/r-mlflow failed: services "r-mlflow" not found'
    )


# -- finding a release's parts by their labels -----------------------------------------


def service(name, labels, ports, cluster_ip="10.0.0.1", selector=None):
    return {
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {"clusterIP": cluster_ip, "ports": ports, "selector": selector or {}},
    }


OBJECTS = [
    service("r-inference-api", {"app.kubernetes.io/name": "inference-api"}, [{"port": 8989}]),
    service("r-mlflow-headless", {"app.kubernetes.io/name": "mlflow"}, [{"port": 5000}], "None"),
    service(
        "r-mlflow",
        {"app.kubernetes.io/name": "mlflow"},
        [{"name": "metrics", "port": 9000}, {"name": "http", "port": 5000}],
    ),
    service("r-api-server", {"component": "api-server", "release": "r"}, [{"port": 8080}]),
]


@pytest.mark.parametrize(
    "component, name, port",
    [
        ("api", "r-inference-api", 8989),
        ("mlflow", "r-mlflow", 5000),
        ("airflow", "r-api-server", 8080),
    ],
)
def test_component_services_are_found_by_labels(component, name, port):
    found = release.component_service(OBJECTS, component, "r")
    assert (found["metadata"]["name"], release.service_port(found)) == (name, port)


def test_a_disabled_component_is_a_clear_error():
    with pytest.raises(PluginError, match="release r has no Locust service"):
        release.component_service(OBJECTS, "locust", "r")


@pytest.mark.parametrize(
    "live, expected",
    [
        ({"kind": "Deployment", "spec": {"replicas": 2}, "status": {"readyReplicas": 1}}, (1, 2)),
        ({"kind": "StatefulSet", "spec": {"replicas": 1}, "status": {}}, (0, 1)),
        ({"kind": "DaemonSet", "status": {"numberReady": 3, "desiredNumberScheduled": 3}}, (3, 3)),
    ],
)
def test_readiness_of_workloads(live, expected):
    assert release.readiness(live) == expected


def test_pod_ports_numbers_and_names():
    pod = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"ports": [{"name": "http", "containerPort": 8989}]}]},
    }
    assert (release.pod_port(pod, 8989), release.pod_port(pod, "http")) == (8989, 8989)
    with pytest.raises(PluginError, match="no port named grpc"):
        release.pod_port(pod, "grpc")


# -- small readings ---------------------------------------------------------------------

METRICS = """# HELP predict_requests_total Prediction requests
# TYPE predict_requests_total counter
predict_requests_total{outcome="success"} 7.0
predict_requests_total{outcome="invalid"} 2.0
predict_requests_created{outcome="success"} 1.7e9
predict_latency_seconds_count 9.0
"""


@pytest.mark.parametrize(
    "labels, total",
    [({}, 9.0), ({"outcome": "success"}, 7.0), ({"outcome": "error"}, None)],
)
def test_metric_totals_from_prometheus_text(labels, total):
    assert metric_total(METRICS, "predict_requests_total", **labels) == total


def test_metric_not_exported_is_none():
    assert metric_total(METRICS, "predictions_total") is None


def test_sample_record_fits_the_spec():
    spec = {
        "features": [
            {"name": "carrier", "kind": "categorical", "categories": ["UA", "AA"]},
            {"name": "hour", "kind": "integer", "min": 5, "max": 23},
            {"name": "temp", "kind": "number", "min": -10.0, "max": 30.0},
        ]
    }
    assert sample_record(spec) == {"carrier": "UA", "hour": 14, "temp": 10.0}


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"probability": 1.5, "prediction": 1, "category": "delayed"}, "no probability in [0, 1]"),
        (
            {"probability": 0.2, "prediction": 1, "category": "on time"},
            "class and category disagree",
        ),
        (
            {"probability": 0.2, "prediction": 0, "category": "on time", "model_version": "2"},
            "came from v2, GET /model says v3",
        ),
    ],
)
def test_bad_predictions_are_named(answer, message):
    with pytest.raises(PluginError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_prediction(answer, "3")


@pytest.mark.parametrize(
    "delta, text",
    [
        (timedelta(seconds=42), "42s"),
        (timedelta(minutes=4, seconds=2), "4m 2s"),
        (timedelta(hours=2, minutes=5), "2h 5m"),
        (timedelta(days=3, hours=4), "3d 4h"),
    ],
)
def test_ages(delta, text):
    now = datetime(2026, 11, 26, tzinfo=UTC)
    assert age(now - delta, now) == text
