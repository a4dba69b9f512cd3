"""Fixtures of the chart tests: the helm binary's major version and the rendered layers."""

from __future__ import annotations

import shutil

import pytest
from chart_render import helm, helm_bin, real_deps_dir, render_with_sources

# Environment layers applied with -f on top of values.yaml.
LAYERS = {"base": (), "dev": ("values/dev.yaml",), "prod": ("values/prod.yaml",)}
# Templates the observability engineer owns; their tests cover them.
MONITORING_PREFIX = "proyecto4/templates/monitoring-"


@pytest.fixture(scope="session", autouse=True)
def helm_is_installed() -> None:
    if not shutil.which(helm_bin()):
        pytest.fail(f"no helm at {helm_bin()}: run ci/install-helm.sh (or set HELM_BIN)")


@pytest.fixture(scope="session")
def helm_major() -> int:
    result = helm("version", "--short", check=True)
    return int(result.stdout.strip().lstrip("v").split(".")[0])


@pytest.fixture(scope="session")
def with_real_deps() -> bool:
    return real_deps_dir() is not None


def is_ours(source: str) -> bool:
    """Rendered by the umbrella's or an in-repo subchart's templates (not a dependency's)."""
    ours = (
        "proyecto4/templates/",
        "proyecto4/charts/inference-api/",
        "proyecto4/charts/streamlit/",
        "proyecto4/charts/locust/",
        "proyecto4/charts/mlflow/",
        "proyecto4/charts/data-source/",
    )
    return source.startswith(ours) and not source.startswith(MONITORING_PREFIX)


@pytest.fixture(scope="session", params=sorted(LAYERS))
def layer(request) -> tuple[str, list[tuple[str, dict]]]:
    """(layer name, [(template, object), ...]) for base, dev and prod."""
    return request.param, render_with_sources(value_files=LAYERS[request.param])


@pytest.fixture(scope="session")
def our_objects_by_layer() -> dict[str, list[dict]]:
    return {
        name: [obj for source, obj in render_with_sources(value_files=files) if is_ours(source)]
        for name, files in LAYERS.items()
    }
