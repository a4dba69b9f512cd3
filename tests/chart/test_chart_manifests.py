"""Every rendered object against the Kubernetes schemas (kubernetes-validate, offline), and
the security defaults of every pod our templates render."""

from __future__ import annotations

import kubernetes_validate
import pytest
from chart.chart_render import is_ours, pod_specs

KUBERNETES_VERSION = "1.31.0"
# Custom resources of the Prometheus Operator: no schema in kubernetes-validate.
CUSTOM_KINDS = {
    "Prometheus",
    "PrometheusRule",
    "ServiceMonitor",
    "PodMonitor",
    "Alertmanager",
    "Probe",
    "ThanosRuler",
    "ScrapeConfig",
    "AlertmanagerConfig",
    "PrometheusAgent",
}


def test_every_object_matches_the_kubernetes_schema(layer):
    name, rendered = layer
    errors, unvalidated = [], set()
    for source, obj in rendered:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            unvalidated.add(obj["kind"])
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{source}: {obj['kind']}/{obj['metadata']['name']}: {error.message}")

    assert errors == [], f"{name}: " + "\n".join(errors)
    assert unvalidated <= CUSTOM_KINDS


def containers_of(spec: dict) -> list[dict]:
    return (spec.get("initContainers") or []) + spec["containers"]


def our_pod_specs(rendered) -> list[tuple[str, dict]]:
    return pod_specs([obj for source, obj in rendered if is_ours(source)])


def test_our_pods_run_as_non_root_without_privilege_escalation(layer):
    name, rendered = layer
    specs = our_pod_specs(rendered)
    problems = []
    for label, spec in specs:
        pod_context = spec.get("securityContext", {})
        if pod_context.get("runAsNonRoot") is not True:
            problems.append(f"{label}: pod runAsNonRoot is not true")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{label}: a ServiceAccount token is mounted")
        for container in containers_of(spec):
            context = container.get("securityContext", {})
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{label}/{container['name']}: privilege escalation allowed")
            if context.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{label}/{container['name']}: capabilities not all dropped")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{label}/{container['name']}: root filesystem writable")

    assert len(specs) >= 6, f"{name}: expected our Deployments, Jobs and test pods"
    assert problems == []


def test_our_containers_have_requests_and_limits(layer):
    _, rendered = layer
    missing = [
        f"{label}/{container['name']}"
        for label, spec in our_pod_specs(rendered)
        for container in containers_of(spec)
        if not {"cpu", "memory"} <= set(container.get("resources", {}).get("requests", {}))
        or not {"cpu", "memory"} <= set(container.get("resources", {}).get("limits", {}))
    ]

    assert missing == []


def test_dependency_pods_are_non_root_bounded_and_unprivileged(layer, with_real_deps):
    """The dependencies' pods as our values configure them (Airflow, Bitnami, kube-prometheus-stack)."""
    if not with_real_deps:
        pytest.skip("needs the real dependency charts (PROYECTO4_DEPS_DIR)")
    name, rendered = layer
    problems = []
    for label, spec in pod_specs([obj for source, obj in rendered if not is_ours(source)]):
        pod_context = spec.get("securityContext") or {}
        for container in containers_of(spec):
            context = container.get("securityContext") or {}
            where = f"{label}/{container['name']}"
            if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
                problems.append(f"{where}: may run as root")
            if context.get("allowPrivilegeEscalation") is not False or context.get("privileged"):
                problems.append(f"{where}: privilege escalation allowed")
            resources = container.get("resources") or {}
            if not resources.get("requests") or not resources.get("limits"):
                problems.append(f"{where}: no requests or limits")

    assert problems == [], name
