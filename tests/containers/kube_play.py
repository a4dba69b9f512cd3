"""The chart's rendered pod specs run as containers with `podman kube play`.

The closest this machine comes to a cluster (README, "Tests"): each workload's pod template
becomes a Pod, unchanged but for fields a cluster would add itself:

- `hostAliases` map every rendered Service name to the host's loopback as the pods see it
  (slirp4netns with allow_host_loopback: 10.0.2.2), and
- each container port is published on the host's loopback at the same number,

so `http://<release>-mlflow:5000` in one pod reaches the MLflow pod through the host, and the
database Services reach the machine's PostgreSQL and MariaDB. A Service whose port differs
from its pod's container port would break that mapping, so `service_ports()` refuses it.

podman 4.3 quirks handled here: a Secret in the played YAML is stored unreadably, so each
Secret the pod reads is created with `podman secret create` from its data (a JSON map of
base64 values, the form kube play reads back); a ConfigMap key mounted with `subPath` comes
out as a directory, so it is mounted as that one file (same content, same path, read-only as
rendered); init containers are not waited for (see Cluster.play); Jobs are played as their
pod template.
"""

from __future__ import annotations

import copy
import json
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import yaml

NETWORK = "slirp4netns:allow_host_loopback=true"
# The host's loopback as a slirp4netns pod sees it.
HOST_FROM_PODS = "10.0.2.2"


class PodmanError(RuntimeError):
    """A podman command failed; the message has its output."""


def podman(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["podman", *args], check=False, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise PodmanError(
            f"podman {' '.join(args[:3])} failed: {result.stderr.strip() or result.stdout.strip()}"
        )
    return result


def pod_template(obj: dict) -> dict:
    """The pod spec of a Deployment, Job, CronJob or Pod."""
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def referenced(spec: dict) -> tuple[set[str], set[str]]:
    """Names of the ConfigMaps and Secrets a pod spec reads (env, envFrom, volumes)."""
    configmaps, secrets = set(), set()
    for container in spec.get("initContainers", []) + spec["containers"]:
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                configmaps.add(source["configMapRef"]["name"])
            if "secretRef" in source:
                secrets.add(source["secretRef"]["name"])
        for env in container.get("env", []):
            value_from = env.get("valueFrom", {})
            if "configMapKeyRef" in value_from:
                configmaps.add(value_from["configMapKeyRef"]["name"])
            if "secretKeyRef" in value_from:
                secrets.add(value_from["secretKeyRef"]["name"])
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            configmaps.add(volume["configMap"]["name"])
        if "secret" in volume:
            secrets.add(volume["secret"]["secretName"])
    return configmaps, secrets


class Cluster:
    """The rendered objects of one release, played pod by pod; `down()` removes them all."""

    def __init__(self, objects: list[dict]):
        self.objects = objects
        self.workdir = Path(tempfile.mkdtemp(prefix="proyecto4-pods-"))
        self.pods: dict[str, dict] = {}
        self.secrets: list[str] = []

    def find(self, kind: str, name: str) -> dict:
        matches = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        assert len(matches) == 1, f"{kind}/{name} is not rendered once"
        return matches[0]

    def service_names(self) -> list[str]:
        return sorted(o["metadata"]["name"] for o in self.objects if o["kind"] == "Service")

    def as_pod(self, obj: dict, spec: dict | None = None) -> dict:
        """The workload's pod as rendered, plus hostAliases and published ports."""
        spec = copy.deepcopy(spec or pod_template(obj))
        spec["hostAliases"] = [{"ip": HOST_FROM_PODS, "hostnames": self.service_names()}]
        for container in spec["containers"]:
            for port in container.get("ports", []):
                port["hostPort"] = port["containerPort"]
                port["hostIP"] = "127.0.0.1"
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": obj["metadata"]["name"],
                "labels": obj["metadata"].get("labels", {}),
            },
            "spec": spec,
        }

    def play(self, pod: dict) -> str:
        """Starts the pod with the ConfigMaps and Secrets it reads; returns its name.

        podman 4.3 starts a pod's init containers without waiting for them to finish (and
        then fails to remove them), so each init container runs first, alone in a pod with
        the same spec, and must exit 0 before the pod's containers start: the order
        Kubernetes gives them.
        """
        pod = copy.deepcopy(pod)
        name = pod["metadata"]["name"]
        for index, init in enumerate(pod["spec"].pop("initContainers", None) or []):
            step = copy.deepcopy(pod)
            step["metadata"]["name"] = f"{name}-init-{index}"
            step["spec"].update(containers=[init], restartPolicy="Never")
            for port in init.get("ports", []):
                port.pop("hostPort", None)
            container = self.container(self._play(step))
            code = self.wait_exit(container, timeout=600)
            assert code == 0, (
                f"init container {init['name']} of {name} exited {code}:\n{self.logs(container)[-3000:]}"
            )
        return self._play(pod)

    def _mount_configmap_files(self, pod: dict) -> None:
        """ConfigMap keys mounted by subPath become single-file mounts of the key's content."""
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        for container in pod["spec"]["containers"]:
            for mount in container.get("volumeMounts", []):
                volume = volumes.get(mount["name"], {})
                if "subPath" not in mount or "configMap" not in volume:
                    continue
                configmap = volume["configMap"]["name"]
                path = self.workdir / configmap / mount["subPath"]
                path.parent.mkdir(exist_ok=True)
                path.write_text(self.find("ConfigMap", configmap)["data"][mount["subPath"]])
                path.chmod(0o644)
                file_volume = f"{mount['name']}-{mount['subPath']}".replace("_", "-").replace(
                    ".", "-"
                )
                pod["spec"]["volumes"].append(
                    {"name": file_volume, "hostPath": {"path": str(path), "type": "File"}}
                )
                mount["name"] = file_volume
                del mount["subPath"]

    def _play(self, pod: dict) -> str:
        self._mount_configmap_files(pod)
        name = pod["metadata"]["name"]
        configmaps, secrets = referenced(pod["spec"])
        for secret in sorted(secrets):
            self._create_secret(self.find("Secret", secret))
        documents = [self.find("ConfigMap", c) for c in sorted(configmaps)] + [pod]
        path = self.workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
        podman("pod", "rm", "--force", "--ignore", "--time", "0", name)
        podman("kube", "play", "--network", NETWORK, str(path))
        self.pods[name] = pod
        return name

    def _create_secret(self, secret: dict) -> None:
        name = secret["metadata"]["name"]
        if name in self.secrets:
            return
        data = self.workdir / f"secret-{name}.json"
        data.write_text(json.dumps(secret.get("data", {})))
        podman("secret", "rm", name, check=False)
        podman("secret", "create", name, str(data))
        self.secrets.append(name)

    def container(self, pod: str, index: int = 0) -> str:
        """Name podman gives a played pod's container: <pod>-<container>."""
        return f"{pod}-{self.pods[pod]['spec']['containers'][index]['name']}"

    def wait_exit(self, container: str, timeout: float) -> int:
        """Exit code of a container that runs to completion (a Job's or a test pod's)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = podman(
                "inspect", container, "--format", "{{.State.Status}} {{.State.ExitCode}}"
            ).stdout.split()
            if state[0] in ("exited", "stopped"):
                return int(state[1])
            time.sleep(2)
        raise TimeoutError(
            f"{container} still running after {timeout:.0f} s\n{self.logs(container)[-3000:]}"
        )

    def logs(self, container: str) -> str:
        result = podman("logs", container, check=False)
        return result.stdout + result.stderr

    def down(self) -> None:
        for pod in reversed(list(self.pods)):
            podman("pod", "rm", "--force", "--ignore", "--time", "0", pod, check=False)
        for secret in self.secrets:
            podman("secret", "rm", secret, check=False)


def inspect(container: str) -> dict:
    return json.loads(podman("inspect", container).stdout)[0]


def wait_http(
    url: str, timeout: float, container_logs=None, headers: dict | None = None
) -> httpx.Response:
    """Polls url from the host until it answers 2xx."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(url, timeout=5, headers=headers)
            if answer.is_success:
                return answer
            last = f"{answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(2)
    logs = container_logs() if container_logs else ""
    raise TimeoutError(
        f"{url} did not answer 2xx in {timeout:.0f} s (last: {last})\n{logs[-4000:]}"
    )
