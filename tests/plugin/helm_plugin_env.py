"""Helpers of the plugin tests: the plugin installed by a real helm into a throwaway Helm
home, its error lines, and what the inference API serves."""

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
HELM_BINARIES = {"helm3": REPO / ".tools/helm3/helm", "helm4": REPO / ".tools/helm4/helm"}


def helm_binary(name: str) -> Path:
    path = HELM_BINARIES[name]
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO)} missing: run ci/install-helm.sh")
    return path


def plugin_errors(stderr: str) -> list[str]:
    """The plugin's own error lines, without the line helm adds when a plugin fails."""
    return [
        line
        for line in stderr.strip().splitlines()
        if not (line.startswith("Error: plugin") and "exited with error" in line)
    ]


# The admin token of the tests' inference APIs (the plugin needs it to reload them).
PLUGIN_ADMIN_TOKEN = "plugin-test-admin-token-0123456789"


class InstalledPlugin:
    """The plugin installed by a real helm into plugin folders of its own (a temp dir)."""

    def __init__(self, helm: Path, root: Path):
        self.helm = helm
        source = root / "proyecto4"
        shutil.copytree(
            REPO / "plugin", source, ignore=shutil.ignore_patterns(".venv", "__pycache__")
        )
        data = root / "helm-data"
        self.env = {
            **os.environ,
            "HELM_DATA_HOME": str(data),
            "HELM_CONFIG_HOME": str(root / "helm-config"),
            "HELM_CACHE_HOME": str(root / "helm-cache"),
            # Helm 4 installs into HELM_DATA_HOME/plugins but lists HELM_PLUGINS: keep them one.
            "HELM_PLUGINS": str(data / "plugins"),
            # The install hook's uv takes the packages from its cache: no network in tests.
            "UV_OFFLINE": "1",
            # No cluster unless a test sets one.
            "KUBECONFIG": str(root / "no-kubeconfig"),
        }
        self.install = self.run("plugin", "install", str(source))

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.helm), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def served_version(api_url: str) -> str:
    answer = httpx.get(f"{api_url}/model", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["model_version"]
