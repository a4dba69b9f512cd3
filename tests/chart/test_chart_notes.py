"""NOTES.txt names only objects the chart renders (with the real dependency charts), for any
release name: every `svc/...`, `secret ...`, `job/...` it tells the user to use exists."""

from __future__ import annotations

import re

import pytest
from chart.chart_render import NAMESPACE, helm, load_manifests, prepared_chart, real_deps_dir

pytestmark = pytest.mark.skipif(
    real_deps_dir() is None, reason="needs the real dependency charts (PROYECTO4_DEPS_DIR)"
)


def install_dry_run(release: str) -> tuple[str, list[str]]:
    """NOTES and the manifest of `helm install --dry-run=client` (what the user would see)."""
    if helm("version", "--short").stdout.startswith("v3."):
        pytest.skip(
            "Helm 3's install --dry-run=client asks a cluster for its version; Helm 4 renders offline"
        )
    result = helm(
        "install",
        release,
        str(prepared_chart()),
        "--namespace",
        NAMESPACE,
        "--dry-run=client",
        "--set",
        "locust.enabled=true",
    )
    assert result.returncode == 0, result.stderr
    manifest, _, notes = result.stdout.partition("NOTES:")
    return notes, manifest.split("\n---\n")


def rendered_names(documents: list[str], kind: str) -> set[str]:
    objects = load_manifests("\n---\n".join(documents))
    return {o["metadata"]["name"] for o in objects if isinstance(o, dict) and o.get("kind") == kind}


@pytest.mark.parametrize(
    "release",
    [
        "proyecto4",
        "prod",
        # Contains a subchart's name: that subchart's fullname is the release name alone.
        "mlflow-demo",
    ],
)
def test_every_object_notes_names_is_rendered(release):
    notes, documents = install_dry_run(release)
    services = set(re.findall(r"port-forward svc/(\S+)", notes))
    secrets = set(re.findall(r"get secret (\S+)", notes))

    assert services, notes
    assert services <= rendered_names(documents, "Service"), notes
    assert secrets <= rendered_names(documents, "Secret"), notes
