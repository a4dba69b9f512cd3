"""Value tables of the in-repo subcharts: values in, the objects they must produce out.

The heavy dependencies (Airflow, kube-prometheus-stack) are switched off here: these tables
are about our subcharts, and the renders stay fast with the real dependency charts too.
"""

from __future__ import annotations

import pytest
from chart.chart_render import container_env, find, render_chart, render_with_sources

LIGHT = {"airflow": {"enabled": False}, "kube-prometheus-stack": {"enabled": False}}
SERVICES = {"data-source": 8000, "inference-api": 8989, "mlflow": 5000, "streamlit": 8501}


def render(values: dict) -> list[dict]:
    return render_chart(values={**LIGHT, **values})


def names(objects: list[dict], kind: str) -> set[str]:
    return {o["metadata"]["name"] for o in objects if o["kind"] == kind}


def container(deployment: dict, index: int = 0) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][index]


@pytest.mark.parametrize("service", [*sorted(SERVICES), "locust"])
@pytest.mark.parametrize("enabled", [True, False])
def test_enabled_switches_the_whole_subchart(service, enabled):
    rendered = render_with_sources(values={**LIGHT, service: {"enabled": enabled}})
    from_subchart = [
        obj for source, obj in rendered if source.startswith(f"proyecto4/charts/{service}/")
    ]
    prefix = f"proyecto4-{service}"

    if enabled:
        assert any(
            n == prefix or n.startswith(prefix + "-") for n in names(from_subchart, "Deployment")
        )
    else:
        assert from_subchart == []


@pytest.mark.parametrize(("service", "port"), sorted(SERVICES.items()))
def test_service_port_probes_and_image(service, port):
    objects = render({})
    deployment = find(objects, "Deployment", f"proyecto4-{service}")
    main = container(deployment)
    svc = find(objects, "Service", f"proyecto4-{service}")

    assert svc["spec"]["ports"][0]["port"] == port
    assert main["ports"][0]["containerPort"] == port
    assert main["image"] == f"ghcr.io/proyecto4/proyecto4-{service}:0.1.0"
    assert {"livenessProbe", "readinessProbe", "startupProbe"} <= set(main)


@pytest.mark.parametrize(
    ("service", "liveness", "readiness"),
    [
        ("inference-api", "/health", "/ready"),
        ("data-source", "/health", "/health"),
        ("streamlit", "/_stcore/health", "/_stcore/health"),
        ("mlflow", "/health", "/health"),
    ],
)
def test_probe_paths(service, liveness, readiness):
    main = container(find(render({}), "Deployment", f"proyecto4-{service}"))

    assert main["livenessProbe"]["httpGet"]["path"] == liveness
    assert main["readinessProbe"]["httpGet"]["path"] == readiness


@pytest.mark.parametrize(
    ("values", "expected_image"),
    [
        ({}, "ghcr.io/proyecto4/proyecto4-inference-api:0.1.0"),
        (
            {"global": {"proyecto4": {"imageRegistry": "registry.example.com:5000"}}},
            "registry.example.com:5000/proyecto4-inference-api:0.1.0",
        ),
        (
            {"global": {"proyecto4": {"imageRegistry": "r.io/team", "imageTag": "1.2.3"}}},
            "r.io/team/proyecto4-inference-api:1.2.3",
        ),
        # Empty: Docker Hub's short names.
        ({"global": {"proyecto4": {"imageRegistry": ""}}}, "proyecto4-inference-api:0.1.0"),
        (
            {"inference-api": {"image": {"registry": "own.io", "tag": "sha-1"}}},
            "own.io/proyecto4-inference-api:sha-1",
        ),
    ],
)
def test_one_value_sets_the_registry_of_all_our_images(values, expected_image):
    objects = render(values)
    registry = expected_image.rpartition("/")[0]

    assert (
        container(find(objects, "Deployment", "proyecto4-inference-api"))["image"] == expected_image
    )
    if "inference-api" not in values:
        for service in ("data-source", "mlflow", "streamlit"):
            image = container(find(objects, "Deployment", f"proyecto4-{service}"))["image"]
            assert image.startswith(f"{registry}/proyecto4-" if registry else "proyecto4-")


@pytest.mark.parametrize(
    ("values", "replicas", "hpa"),
    [
        ({}, 1, False),
        ({"inference-api": {"replicaCount": 3}}, 3, False),
        (
            {
                "inference-api": {
                    "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 5}
                }
            },
            None,
            True,
        ),
    ],
)
def test_api_replicas_and_hpa(values, replicas, hpa):
    objects = render(values)
    deployment = find(objects, "Deployment", "proyecto4-inference-api")

    assert deployment["spec"].get("replicas") == replicas
    assert ("proyecto4-inference-api" in names(objects, "HorizontalPodAutoscaler")) is hpa
    if hpa:
        spec = find(objects, "HorizontalPodAutoscaler", "proyecto4-inference-api")["spec"]
        assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 5)
        assert spec["scaleTargetRef"]["name"] == "proyecto4-inference-api"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_resources_come_from_values(service):
    resources = {
        "requests": {"cpu": "123m", "memory": "77Mi"},
        "limits": {"cpu": "2", "memory": "3Gi"},
    }
    main = container(
        find(render({service: {"resources": resources}}), "Deployment", f"proyecto4-{service}")
    )

    assert main["resources"] == resources


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_ingress_and_pdb_on_request(service):
    values = {
        service: {
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "hosts": [{"host": f"{service}.flights.test", "path": "/"}],
            },
            "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        }
    }
    objects = render(values)
    ingress = find(objects, "Ingress", f"proyecto4-{service}")
    rule = ingress["spec"]["rules"][0]

    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert rule["host"] == f"{service}.flights.test"
    assert rule["http"]["paths"][0]["backend"]["service"] == {
        "name": f"proyecto4-{service}",
        "port": {"number": SERVICES[service]},
    }
    assert (
        find(objects, "PodDisruptionBudget", f"proyecto4-{service}")["spec"]["maxUnavailable"] == 1
    )
    assert f"proyecto4-{service}" not in names(render({}), "Ingress")


@pytest.mark.parametrize(
    ("service", "secrets"),
    [
        ("inference-api", ["proyecto4-data-db"]),
        ("streamlit", ["proyecto4-data-db"]),
        ("mlflow", ["proyecto4-mlflow-db", "proyecto4-object-store"]),
        ("data-source", []),
    ],
)
def test_secret_references(service, secrets):
    main = container(find(render({}), "Deployment", f"proyecto4-{service}"))
    refs = [e["secretRef"]["name"] for e in main["envFrom"] if "secretRef" in e]

    assert refs == secrets
    # The release's addresses first, the component's own settings over them.
    own = main["envFrom"].index({"configMapRef": {"name": f"proyecto4-{service}"}})
    if service != "data-source":
        assert main["envFrom"][:own] == [{"configMapRef": {"name": "proyecto4-addresses"}}]


@pytest.mark.parametrize(
    ("service", "key", "value"),
    [
        ("inference-api", "MLFLOW_TRACKING_URI", "http://proyecto4-mlflow:5000"),
        ("streamlit", "INFERENCE_API_URL", "http://proyecto4-inference-api:8989"),
        ("streamlit", "MLFLOW_TRACKING_URI", "http://proyecto4-mlflow:5000"),
        ("mlflow", "MLFLOW_S3_ENDPOINT_URL", "http://proyecto4-minio:9000"),
        ("mlflow", "MLFLOW_ARTIFACTS_DESTINATION", "s3://mlflow/artifacts"),
        ("data-source", "DATA_SOURCE_GROUPS", "1"),
    ],
)
def test_urls_come_from_values(service, key, value):
    objects = render({})
    main = container(find(objects, "Deployment", f"proyecto4-{service}"))
    assert container_env(objects, main)[key][1] == value


@pytest.mark.parametrize(("service_type", "node_port"), [("ClusterIP", None), ("NodePort", 32000)])
def test_service_type_and_node_port(service_type, node_port):
    objects = render({"mlflow": {"service": {"type": service_type, "nodePort": 32000}}})
    port = find(objects, "Service", "proyecto4-mlflow")["spec"]["ports"][0]

    assert find(objects, "Service", "proyecto4-mlflow")["spec"]["type"] == service_type
    assert port.get("nodePort") == node_port


def test_mlflow_migration_job_runs_before_the_server_under_helm_and_argocd():
    objects = render({})
    job = find(objects, "Job", "proyecto4-mlflow-db-migrate")
    annotations = job["metadata"]["annotations"]
    server = find(objects, "Deployment", "proyecto4-mlflow")["spec"]["template"]["spec"]

    assert annotations["helm.sh/hook"] == "post-install,pre-upgrade"
    assert annotations["argocd.argoproj.io/hook"] == "Sync"
    assert "mlflow db upgrade" in job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    # The schema first, then MLflow's users (whose auth tables live in their own database).
    assert [c["name"] for c in server["initContainers"]] == ["wait-for-schema", "auth-setup"]
    assert "_verify_schema" in server["initContainers"][0]["command"][-1]


def test_mlflow_migration_can_be_switched_off():
    objects = render(
        {
            "mlflow": {
                "migration": {"enabled": False, "waitForSchema": False},
                "auth": {"enabled": False},
            }
        }
    )

    assert "proyecto4-mlflow-db-migrate" not in names(objects, "Job")
    assert (
        "initContainers"
        not in find(objects, "Deployment", "proyecto4-mlflow")["spec"]["template"]["spec"]
    )


@pytest.mark.parametrize(
    ("mode", "deployments", "jobs"),
    [
        ("distributed", {"proyecto4-locust-master", "proyecto4-locust-worker"}, set()),
        ("headless", set(), {"proyecto4-locust-headless-1"}),
    ],
)
def test_locust_modes(mode, deployments, jobs):
    objects = render({"locust": {"enabled": True, "mode": mode}})
    locust_deployments = {n for n in names(objects, "Deployment") if "locust" in n}

    assert locust_deployments == deployments
    assert {n for n in names(objects, "Job") if "locust" in n} == jobs
    if mode == "distributed":
        worker = container(find(objects, "Deployment", "proyecto4-locust-worker"))
        assert worker["args"] == [
            "--worker",
            "--master-host",
            "proyecto4-locust-master",
            "--master-port",
            "5557",
        ]
        assert find(objects, "Deployment", "proyecto4-locust-worker")["spec"]["replicas"] == 2
    else:
        args = find(objects, "Job", "proyecto4-locust-headless-1")["spec"]["template"]["spec"][
            "containers"
        ][0]["args"]
        assert args[:5] == ["--headless", "--users", "20", "--spawn-rate", "5"]
    config = find(objects, "ConfigMap", "proyecto4-locust")["data"]
    # No host of its own: the locustfile falls back to INFERENCE_API_URL, the release's API.
    assert config["LOCUST_HOST"] == ""
    assert find(objects, "ConfigMap", "proyecto4-addresses")["data"]["INFERENCE_API_URL"] == (
        "http://proyecto4-inference-api:8989"
    )


@pytest.mark.parametrize(
    ("values", "external_egress"), [({}, False), ({"allowExternalEgress": True}, True)]
)
def test_network_policy_egress(values, external_egress):
    objects = render({"mlflow": {"networkPolicy": values}})
    egress = find(objects, "NetworkPolicy", "proyecto4-mlflow")["spec"]["egress"]

    assert ({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]} in egress) is external_egress


def test_network_policy_allows_only_the_service_port_from_the_namespace():
    policy = find(
        render({"inference-api": {"networkPolicy": {"allowedNamespaces": ["ingress-nginx"]}}}),
        "NetworkPolicy",
        "proyecto4-inference-api",
    )["spec"]
    rule = policy["ingress"][0]

    assert rule["ports"] == [{"port": 8989, "protocol": "TCP"}]
    assert {"podSelector": {}} in rule["from"]
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    } in rule["from"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "inference-api"
