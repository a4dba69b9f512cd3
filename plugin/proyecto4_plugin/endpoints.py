"""Where the release's services answer: explicit URLs (URL mode) or port-forwards (cluster).

Each service is resolved on its own, so `--api-url` alone still port-forwards to MLflow.
Port-forwards live as long as the ExitStack the command runs in.
"""

from __future__ import annotations

import base64
import os
from contextlib import ExitStack
from dataclasses import dataclass

from proyecto4_plugin import release as parts
from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.http import Service
from proyecto4_plugin.kube import Cluster, port_forward
from proyecto4_plugin.names import ADMIN_TOKEN_ENV, API_KEY_ENV, MODEL_NAME


@dataclass
class Targets:
    """What the user named on the command line."""

    release: str | None
    api_url: str | None = None
    mlflow_url: str | None = None
    airflow_url: str | None = None
    model_name: str = MODEL_NAME
    timeout: float = 30.0

    def explicit(self, component: str) -> str | None:
        return {"api": self.api_url, "mlflow": self.mlflow_url, "airflow": self.airflow_url}.get(
            component
        )


def mlflow_auth(release_login: tuple[str, str] | None = None) -> dict:
    """MLflow's own client settings for a server behind basic auth or a token; without them,
    the release's MLflow admin (cluster mode)."""
    user, password = (
        os.environ.get("MLFLOW_TRACKING_USERNAME"),
        os.environ.get("MLFLOW_TRACKING_PASSWORD"),
    )
    if user and password:
        return {"auth": (user, password)}
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"headers": {"Authorization": f"Bearer {token}"}}
    return {"auth": release_login} if release_login else {}


def mlflow_release_login(cluster: Cluster, facts: dict[str, str]) -> tuple[str, str] | None:
    """The MLflow admin the chart generated for the release (the Secret its release-facts
    ConfigMap names), whose promote and rollback need the registered model's manage
    permission; None when the release runs MLflow without basic-auth or the Secret has no admin."""
    secret_name = facts.get(parts.MLFLOW_AUTH_SECRET)
    if not secret_name:
        return None
    data = cluster.get_json("get", "secret", secret_name).get("data") or {}
    if not (data.get("admin-username") and data.get("admin-password")):
        return None
    return tuple(
        base64.b64decode(data[key]).decode() for key in ("admin-username", "admin-password")
    )


class Endpoints:
    def __init__(self, targets: Targets, stack: ExitStack, cluster: Cluster | None = None):
        self.targets = targets
        self.stack = stack
        self._cluster = cluster
        self._facts: dict[str, str] | None = None
        self._objects: list[dict] | None = None
        self._urls: dict[str, str] = {}

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            self._cluster = Cluster.from_env()
        return self._cluster

    @property
    def cluster_mode(self) -> bool:
        """True when the API or MLflow is reached through the cluster."""
        return not (self.targets.api_url and self.targets.mlflow_url)

    def release(self) -> str:
        if not self.targets.release:
            raise PluginError(
                "name the RELEASE to reach it through the cluster, "
                "or give --api-url and --mlflow-url"
            )
        return self.targets.release

    def facts(self) -> dict[str, str]:
        """What the chart resolved for the release (its release-facts ConfigMap), looked up
        once per command; fails clearly when the namespace has no such release."""
        if self._facts is None:
            self._facts = self.cluster.release_facts(self.release())
        return self._facts

    def objects(self) -> list[dict]:
        """The release's live services and workloads (looked up once per command, after
        the release itself)."""
        if self._objects is None:
            self.facts()
            self._objects = self.cluster.release_objects(self.release(), parts.RELEASE_KINDS)
        return self._objects

    def url(self, component: str) -> str:
        if component not in self._urls:
            self._urls[component] = self.targets.explicit(component) or self._forward(component)
        return self._urls[component]

    def _forward(self, component: str) -> str:
        service = parts.component_service(self.objects(), component, self.release())
        resource = f"svc/{service['metadata']['name']}"
        return self.stack.enter_context(
            port_forward(self.cluster, resource, parts.service_port(service))
        )

    def service(self, component: str, **client_options) -> Service:
        service = Service(
            parts.COMPONENT_TITLES[component],
            self.url(component),
            timeout=self.targets.timeout,
            **client_options,
        )
        self.stack.callback(service.close)
        return service

    def mlflow(self) -> Service:
        login = None
        if not self.targets.mlflow_url and not os.environ.get("MLFLOW_TRACKING_USERNAME"):
            login = mlflow_release_login(self.cluster, self.facts())
        return self.service("mlflow", **mlflow_auth(login))

    def api(self) -> Service:
        """The API's Service for predictions: with INFERENCE_API_KEY when the API wants keys."""
        key = os.environ.get(API_KEY_ENV, "").strip()
        return self.service("api", headers={"Authorization": f"Bearer {key}"} if key else None)

    def admin_token(self) -> str:
        """The API's admin token: INFERENCE_API_ADMIN_TOKEN, else (cluster mode) read from
        the Secret the API's Deployment takes it from."""
        token = os.environ.get(ADMIN_TOKEN_ENV, "").strip()
        if token:
            return token
        if self.targets.api_url:
            raise PluginError(
                f"reloading the inference API needs its admin token: set {ADMIN_TOKEN_ENV} "
                "(in the cluster: the Secret NOTES.txt names)"
            )
        ref = parts.secret_env_ref(
            parts.find_objects(self.objects(), "Deployment", "api"), ADMIN_TOKEN_ENV
        )
        if ref is None:
            raise PluginError(
                f"the inference API Deployment of release {self.release()} reads no "
                f"{ADMIN_TOKEN_ENV}: set it yourself"
            )
        secret = self.cluster.get_json("get", "secret", ref["name"])
        encoded = (secret.get("data") or {}).get(ref["key"])
        if not encoded:
            raise PluginError(f"secret {ref['name']} has no key {ref['key']}")
        return base64.b64decode(encoded).decode().strip()

    def api_replicas(self) -> list[Service]:
        """One client per serving API pod (each loads its model itself), or the given URL;
        each sends the admin token."""
        admin = {"Authorization": f"Bearer {self.admin_token()}"}
        if self.targets.api_url:
            return [self.service("api", headers=admin)]
        service = parts.component_service(self.objects(), "api", self.release())
        selector = service.get("spec", {}).get("selector") or {}
        label_query = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
        pods = [
            pod
            for pod in self.cluster.get_json("get", "pods", "-l", label_query)["items"]
            if parts.is_ready_pod(pod)
        ]
        if not pods:
            raise PluginError(f"no ready pod behind service {service['metadata']['name']}")
        target_port = service["spec"]["ports"][0].get("targetPort", parts.service_port(service))
        clients = []
        for pod in pods:
            name = pod["metadata"]["name"]
            url = self.stack.enter_context(
                port_forward(self.cluster, f"pod/{name}", parts.pod_port(pod, target_port))
            )
            client = Service(
                f"inference API pod {name}", url, timeout=self.targets.timeout, headers=admin
            )
            self.stack.callback(client.close)
            clients.append(client)
        return clients
