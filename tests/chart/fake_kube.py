"""A stand-in for the Kubernetes API server, just enough for `helm template --dry-run=server`:
discovery of the kinds the chart renders and GET of the Secrets given, so that the chart's
`lookup` finds them (a plain `helm template` never looks anything up)."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from servers import send_json

# group/version -> (kind, plural, namespaced) of what the chart can render.
RESOURCES = {
    "v1": [
        ("ConfigMap", "configmaps", True),
        ("Secret", "secrets", True),
        ("Service", "services", True),
        ("ServiceAccount", "serviceaccounts", True),
        ("Pod", "pods", True),
    ],
    "apps/v1": [("Deployment", "deployments", True)],
    "batch/v1": [("Job", "jobs", True), ("CronJob", "cronjobs", True)],
    "networking.k8s.io/v1": [
        ("NetworkPolicy", "networkpolicies", True),
        ("Ingress", "ingresses", True),
    ],
    "policy/v1": [("PodDisruptionBudget", "poddisruptionbudgets", True)],
    "autoscaling/v2": [("HorizontalPodAutoscaler", "horizontalpodautoscalers", True)],
}


def _discovery(path: str) -> dict | None:
    if path == "/version":
        return {"major": "1", "minor": "31", "gitVersion": "v1.31.0"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"]}
    if path == "/apis":
        groups = {gv.split("/")[0]: gv for gv in RESOURCES if "/" in gv}
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": g,
                    "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
                    "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]},
                }
                for g, gv in groups.items()
            ],
        }
    for gv, kinds in RESOURCES.items():
        if path == ("/api/v1" if gv == "v1" else f"/apis/{gv}"):
            return {
                "kind": "APIResourceList",
                "groupVersion": gv,
                "resources": [
                    {
                        "name": plural,
                        "singularName": kind.lower(),
                        "namespaced": namespaced,
                        "kind": kind,
                        "verbs": ["get", "list", "create"],
                    }
                    for kind, plural, namespaced in kinds
                ],
            }
    return None


@contextlib.contextmanager
def fake_cluster(
    tmp_path: Path, release: str, namespace: str, secrets: dict[str, dict[str, str]]
) -> Iterator[Path]:
    """Serves `secrets` (name -> plain data) in `namespace`, owned by `release` as an earlier
    install left them; yields a kubeconfig for it."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            body = _discovery(path)
            prefix = f"/api/v1/namespaces/{namespace}/secrets/"
            if body is None and path.startswith(prefix) and path[len(prefix) :] in secrets:
                name = path[len(prefix) :]
                body = {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {
                        "name": name,
                        "namespace": namespace,
                        "labels": {"app.kubernetes.io/managed-by": "Helm"},
                        "annotations": {
                            "meta.helm.sh/release-name": release,
                            "meta.helm.sh/release-namespace": namespace,
                        },
                    },
                    "data": {
                        k: base64.b64encode(v.encode()).decode() for k, v in secrets[name].items()
                    },
                }
            status = 200 if body is not None else 404
            body = body or {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": "NotFound",
                "code": 404,
            }
            send_json(self, status, body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "fake",
                "clusters": [
                    {
                        "name": "fake",
                        "cluster": {"server": f"http://127.0.0.1:{server.server_port}"},
                    }
                ],
                "users": [{"name": "fake", "user": {"token": "fake"}}],
                "contexts": [
                    {
                        "name": "fake",
                        "context": {"cluster": "fake", "user": "fake", "namespace": namespace},
                    }
                ],
            }
        )
    )
    try:
        yield kubeconfig
    finally:
        server.shutdown()
        server.server_close()
