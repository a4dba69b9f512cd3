"""Cluster mode: kubectl with the namespace, context and kubeconfig Helm hands over.

Helm consumes its global flags (`-n`, `--kube-context`, `--kubeconfig`) before it runs a
plugin and passes them on as HELM_NAMESPACE, HELM_KUBECONTEXT and KUBECONFIG; the plugin
repeats them on every kubectl command so both talk to the same cluster. It never asks Helm
about the release: one Argo CD installed (`helm template`) has no Helm record, so what the
plugin needs comes from the cluster's objects, found by their labels.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from proyecto4_plugin import release as parts
from proyecto4_plugin.errors import PluginError

COMMAND_TIMEOUT_S = 120


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("Error: ").removeprefix("error: ") if lines else "no output"


@dataclass(frozen=True)
class Cluster:
    namespace: str
    context: str | None = None
    kubectl_bin: str = "kubectl"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Cluster:
        return cls(
            namespace=env.get("HELM_NAMESPACE") or "default",
            context=env.get("HELM_KUBECONTEXT") or None,
            kubectl_bin=env.get("KUBECTL") or "kubectl",
        )

    def kubectl(self, *args: str) -> list[str]:
        context = ["--context", self.context] if self.context else []
        return [self.kubectl_bin, *context, "--namespace", self.namespace, *args]

    def run(self, command: list[str], *, stdin: str | None = None) -> str:
        try:
            done = subprocess.run(
                command,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError:
            raise PluginError(
                f"{command[0]} is not installed: cluster mode needs it "
                "(or reach the services with --api-url and --mlflow-url)"
            ) from None
        except subprocess.TimeoutExpired:
            raise PluginError(
                f"{' '.join(command[:3])} did not finish in {COMMAND_TIMEOUT_S} s"
            ) from None
        if done.returncode != 0:
            raise PluginError(self.explain(done.stderr))
        return done.stdout

    def explain(self, stderr: str) -> str:
        """The one line a user needs from kubectl's error output."""
        text = " ".join(stderr.split())
        unreachable = (
            "cluster unreachable",
            "Unable to connect to the server",
            "connection refused",
            "was refused",
            "no such host",
        )
        if any(sign in text for sign in unreachable):
            return f"no cluster reachable ({_one_line(stderr)})"
        return _one_line(stderr)

    def release_facts(self, release: str) -> dict[str, str]:
        """What the chart resolved for the release (its release-facts ConfigMap,
        templates/configmap-release.yaml), whether Helm or Argo CD installed it; a clear
        error when the namespace has no such release."""
        selector = parts.selector(parts.release_facts_labels(release))
        found = self.get_json("get", "configmaps", "-l", selector)["items"]
        if not found:
            raise PluginError(
                f"release {release} not found in namespace {self.namespace}: no ConfigMap "
                f"labelled {selector} (install the release from the proyecto4 chart, with "
                "Helm or Argo CD)"
            )
        return found[0].get("data") or {}

    def release_objects(self, release: str, kinds: str) -> list[dict]:
        """Live objects of `kinds` (kubectl's comma list) that belong to the release.

        Most charts label them `app.kubernetes.io/instance`; the Apache Airflow chart uses
        `release`. Both selectors are asked and the answers merged.
        """
        found: dict[tuple[str, str], dict] = {}
        for selector in (f"app.kubernetes.io/instance={release}", f"release={release}"):
            for item in self.get_json("get", kinds, "-l", selector)["items"]:
                found[(item["kind"], item["metadata"]["name"])] = item
        return list(found.values())

    def get_json(self, *args: str, stdin: str | None = None) -> dict:
        return json.loads(self.run(self.kubectl(*args, "-o", "json"), stdin=stdin))


FORWARD_LINE = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


def forwarded_port(line: str) -> int | None:
    """The local port in kubectl port-forward's announcement line, else None."""
    match = FORWARD_LINE.search(line)
    return int(match.group(1)) if match else None


def _await_forward(
    cluster: Cluster, process: subprocess.Popen, resource: str, timeout: float
) -> int:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        if not selector.select(remaining):
            break
        line = process.stdout.readline()
        if not line:
            stderr = process.stderr.read() if process.stderr else ""
            raise PluginError(f"port-forward to {resource} failed: {cluster.explain(stderr)}")
        port = forwarded_port(line)
        if port:
            return port
    raise PluginError(f"port-forward to {resource} announced no local port within {timeout:g} s")


def _drain(stream) -> None:
    # kubectl writes a line per forwarded connection; an unread pipe would block it.
    for _ in stream:
        pass


@contextmanager
def port_forward(cluster: Cluster, resource: str, port: int, timeout: float = 30) -> Iterator[str]:
    """A local http:// base URL forwarded to `resource` (svc/NAME or pod/NAME) port `port`."""
    command = cluster.kubectl("port-forward", "--address", "127.0.0.1", resource, f":{port}")
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except FileNotFoundError:
        raise PluginError(f"{command[0]} is not installed: cluster mode needs it") from None
    try:
        local_port = _await_forward(cluster, process, resource, timeout)
        threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
        yield f"http://127.0.0.1:{local_port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
