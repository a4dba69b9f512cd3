"""Inventory: every (kind, name) our templates render for base, dev and prod.

With the real dependency charts (PROYECTO4_DEPS_DIR) the dependencies' key objects are
checked too: in-cluster servers in base/dev, none of them in prod (external servers).
"""

from __future__ import annotations

import pytest
from chart.chart_render import LAYERS, is_ours, render_with_sources

SERVICES = ("data-source", "inference-api", "mlflow", "streamlit")
PER_SERVICE = {
    (kind, f"proyecto4-{name}")
    for name in SERVICES
    for kind in ("ConfigMap", "Deployment", "NetworkPolicy", "Service", "ServiceAccount")
}
TEST_PODS = {("Pod", f"proyecto4-{name}-test") for name in SERVICES}
# Backups run in every layer (prod: of its external servers).
BACKUP = {(kind, "proyecto4-backup") for kind in ("ConfigMap", "CronJob", "NetworkPolicy")}
ALWAYS = (
    PER_SERVICE
    | TEST_PODS
    | BACKUP
    | {
        ("Job", "proyecto4-mlflow-db-migrate"),
        ("NetworkPolicy", "proyecto4-mlflow-db-migrate"),
        ("Secret", "proyecto4-airflow-admin"),
        ("Secret", "proyecto4-airflow-api-secret-key"),
        ("Secret", "proyecto4-airflow-fernet-key"),
        ("Secret", "proyecto4-airflow-jwt-secret"),
        ("Secret", "proyecto4-grafana-admin"),
        # MLflow's users (basic-auth), in every layer: they do not depend on where MySQL runs.
        ("Secret", "proyecto4-mlflow-auth"),
        # The inference API's admin token (POST /load_model/).
        ("Secret", "proyecto4-inference-api-admin"),
        # The object store's connection of Airflow's remote task logs (on in every layer).
        ("ConfigMap", "proyecto4-airflow-object-store"),
        # The pipeline's settings for Airflow and the first run at install.
        ("ConfigMap", "proyecto4-pipeline"),
        # Every in-cluster address our pods and Airflow's read (configmap-addresses.yaml).
        ("ConfigMap", "proyecto4-addresses"),
        # The release's resolved Secret names for operators' tools (configmap-release.yaml).
        ("ConfigMap", "proyecto4-release"),
        ("Job", "proyecto4-first-run"),
        ("NetworkPolicy", "proyecto4-first-run"),
    }
)
IN_CLUSTER_SERVER_SECRETS = {
    ("Secret", "proyecto4-postgresql-auth"),
    ("Secret", "proyecto4-data-db"),
    ("Secret", "proyecto4-airflow-metadata"),
    ("Secret", "proyecto4-mysql-auth"),
    ("Secret", "proyecto4-mlflow-db"),
    ("Secret", "proyecto4-minio-auth"),
    ("Secret", "proyecto4-object-store"),
}
PROD_ONLY = {
    ("HorizontalPodAutoscaler", "proyecto4-inference-api"),
    ("Ingress", "proyecto4-inference-api"),
    ("Ingress", "proyecto4-mlflow"),
    ("Ingress", "proyecto4-streamlit"),
    ("PodDisruptionBudget", "proyecto4-inference-api"),
    ("PodDisruptionBudget", "proyecto4-mlflow"),
}
EXPECTED = {
    "base": ALWAYS | IN_CLUSTER_SERVER_SECRETS,
    "dev": ALWAYS | IN_CLUSTER_SERVER_SECRETS,
    "prod": ALWAYS | PROD_ONLY,
}
# Objects of the real dependencies that show they are wired in (or left out).
SERVERS = {
    ("StatefulSet", "proyecto4-postgresql"),
    ("StatefulSet", "proyecto4-mysql"),
    ("Deployment", "proyecto4-minio"),
}
AIRFLOW = {
    ("Deployment", "proyecto4-scheduler"),
    ("Deployment", "proyecto4-api-server"),
    ("Deployment", "proyecto4-dag-processor"),
    ("Job", "proyecto4-run-airflow-migrations"),
    ("Job", "proyecto4-create-user"),
}
MONITORING = {
    ("Prometheus", "proyecto4-kube-prometheus-prometheus"),
    ("Deployment", "proyecto4-grafana"),
    ("Deployment", "proyecto4-kube-prometheus-operator"),
}


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_our_objects_are_exactly_the_inventory(layer_name):
    rendered = render_with_sources(value_files=LAYERS[layer_name])
    ours = sorted(
        (obj["kind"], obj["metadata"]["name"]) for source, obj in rendered if is_ours(source)
    )

    assert len(ours) == len(set(ours)), f"duplicate objects in {layer_name}: {ours}"
    assert set(ours) - EXPECTED[layer_name] == set(), "rendered but not in the inventory"
    assert EXPECTED[layer_name] - set(ours) == set(), "in the inventory but not rendered"


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_dependency_objects_follow_the_layer(layer_name, with_real_deps):
    if not with_real_deps:
        pytest.skip(
            "stub dependencies render nothing; set PROYECTO4_DEPS_DIR (ci/package-real-deps.sh)"
        )
    rendered = {
        (obj["kind"], obj["metadata"]["name"])
        for _, obj in render_with_sources(value_files=LAYERS[layer_name])
    }

    assert rendered >= AIRFLOW
    assert rendered >= MONITORING
    if layer_name == "prod":
        assert SERVERS & rendered == set(), "prod uses external PostgreSQL, MySQL and S3"
        assert ("DaemonSet", "proyecto4-prometheus-node-exporter") in rendered
    else:
        assert rendered >= SERVERS
