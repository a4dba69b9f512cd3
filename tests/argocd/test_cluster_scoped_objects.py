"""Environments that share a cluster never own the same cluster-scoped object.

Each environment Application is rendered the way Argo CD's repo server renders a Helm
source: `helm template <releaseName> . --namespace <destination> --include-crds` (unless
`skipCrds`), its valueFiles, then `values`/`valuesObject`, then `parameters` as --set. Two
Applications rendering the same (kind, name) of a cluster-scoped kind would fight over it:
each sync rewrites the other's object, and pruning or deleting one environment deletes it
(kube-prometheus-stack's CRDs with every Prometheus of the cluster).

With stub dependencies the external charts render nothing, so these tests need the real
packages (PROYECTO4_DEPS_DIR, see ci/package-real-deps.sh).
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
import yaml
from chart.chart_render import PROD_SITE, helm, prepared_chart, real_deps_dir

REPO = Path(__file__).resolve().parents[2]
ARGOCD = REPO / "argocd"

# Kubernetes' cluster-scoped kinds (those a Helm chart can ship) ...
CLUSTER_SCOPED = {
    "APIService",
    "ClusterRole",
    "ClusterRoleBinding",
    "CSIDriver",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
}
# ... and the namespaced ones the platform renders: a kind in neither set fails the test, so
# a new dependency's kinds are classified before they can slip through.
NAMESPACED = {
    "Alertmanager",
    "ConfigMap",
    "CronJob",
    "DaemonSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "Ingress",
    "Job",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "Pod",
    "PodDisruptionBudget",
    "PodMonitor",
    "Prometheus",
    "PrometheusRule",
    "Role",
    "RoleBinding",
    "Secret",
    "Service",
    "ServiceAccount",
    "ServiceMonitor",
    "StatefulSet",
}


def argocd_render(app: dict, chart: Path, workdir: Path) -> list[dict]:
    """The objects Argo CD would apply for an Application with a Helm source at `chart`."""
    source, helm_source = app["spec"]["source"], app["spec"]["source"].get("helm", {})
    root = chart / source["path"]
    args = [
        "template",
        helm_source.get("releaseName", app["metadata"]["name"]),
        str(root),
        "--namespace",
        app["spec"]["destination"]["namespace"],
    ]
    if not helm_source.get("skipCrds"):
        args.append("--include-crds")
    for value_file in helm_source.get("valueFiles", []):
        args += ["-f", str(root / value_file)]
    # An operator's fork sets its own hosts over prod's placeholders (the render fails without).
    args += ["-f", PROD_SITE] if app["metadata"]["name"].endswith("-prod") else []
    inline = helm_source.get("valuesObject") or yaml.safe_load(helm_source.get("values") or "")
    if inline:
        path = workdir / f"{app['metadata']['name']}-values.json"
        path.write_text(json.dumps(inline))
        args += ["-f", str(path)]
    for parameter in helm_source.get("parameters", []):
        flag = "--set-string" if parameter.get("forceString") else "--set"
        args += [flag, f"{parameter['name']}={parameter['value']}"]
    done = helm(*args)
    assert done.returncode == 0, done.stderr
    # BaseLoader: the CRDs' schemas hold `=`, which the safe loader rejects as a YAML tag.
    return [doc for doc in yaml.load_all(done.stdout, Loader=yaml.BaseLoader) if doc]


@pytest.fixture(scope="module")
def environments(render, tmp_path_factory) -> dict[str, list[dict]]:
    if real_deps_dir() is None:
        pytest.skip("the cluster-scoped objects come from the real charts: set PROYECTO4_DEPS_DIR")
    chart, workdir = prepared_chart(), tmp_path_factory.mktemp("argocd-values")
    apps = [a for a in render(ARGOCD) if a["spec"]["source"]["path"] == "."]
    servers = {app["spec"]["destination"]["server"] for app in apps}
    assert len(apps) >= 2 and len(servers) == 1, "the default: every environment on one cluster"
    return {app["metadata"]["name"]: argocd_render(app, chart, workdir) for app in apps}


def test_every_rendered_kind_is_known_to_be_cluster_scoped_or_namespaced(environments):
    kinds = {obj["kind"] for objects in environments.values() for obj in objects}
    assert kinds - CLUSTER_SCOPED - NAMESPACED == set()


def test_no_cluster_scoped_object_belongs_to_two_environments(environments):
    owners = collections.defaultdict(list)
    for app, objects in environments.items():
        for obj in objects:
            if obj["kind"] in CLUSTER_SCOPED:
                owners[(obj["kind"], obj["metadata"]["name"])].append(app)
    shared = {key: apps for key, apps in owners.items() if len(apps) > 1}
    assert shared == {}


def test_one_environment_installs_the_crds_operator_and_webhooks(environments):
    # Not colliding by installing them nowhere: the cluster still needs exactly one of each.
    def installs(objects: list[dict]) -> set[str]:
        found = {obj["kind"] for obj in objects}
        operator = any(
            obj["kind"] == "Deployment" and obj["metadata"]["name"].endswith("-operator")
            for obj in objects
        )
        return {
            kind
            for kind in ("CustomResourceDefinition", "ValidatingWebhookConfiguration")
            if kind in found
        } | ({"operator"} if operator else set())

    everything = {"CustomResourceDefinition", "ValidatingWebhookConfiguration", "operator"}
    assert {app: installs(objects) for app, objects in environments.items()} == {
        "proyecto4-dev": set(),
        "proyecto4-prod": everything,
    }


def test_each_prometheus_selects_only_its_own_release(environments):
    # The operator of one environment reconciles every environment's Prometheus; each must
    # still pick only its own ServiceMonitors and rules (kube-prometheus-stack selects by the
    # `release` label, so the release names must differ).
    selectors = {}
    for app, objects in environments.items():
        (prometheus,) = [obj for obj in objects if obj["kind"] == "Prometheus"]
        spec = prometheus["spec"]
        selectors[app] = json.dumps(
            [spec.get("serviceMonitorSelector"), spec.get("ruleSelector")], sort_keys=True
        )
    assert len(set(selectors.values())) == len(selectors), selectors


@pytest.mark.parametrize(
    "settings, message",
    [
        (["environments.dev.releaseName=proyecto4"], "both use release name proyecto4"),
        (["environments.dev.clusterWide=true"], "only one may install"),
        (["environments.prod.clusterWide=false"], "set clusterWide: true on the one"),
    ],
)
def test_argocd_chart_refuses_two_owners_or_none_on_one_cluster(settings, message):
    args = [arg for setting in settings for arg in ("--set", setting)]
    done = helm("template", "proyecto4", str(ARGOCD), *args)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr


def test_an_environment_alone_on_its_cluster_installs_the_cluster_wide_parts(render):
    apps = render(ARGOCD, "--set", "environments.dev.server=https://dev.example.test:6443")
    dev = next(a for a in apps if a["metadata"]["name"] == "proyecto4-dev")
    assert "skipCrds" not in dev["spec"]["source"]["helm"]
    assert "valuesObject" not in dev["spec"]["source"]["helm"]
