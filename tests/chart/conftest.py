"""Fixtures of the chart tests: the helm binary's major version and the rendered layers."""

from __future__ import annotations

import shutil

import pytest

# Shared names live in chart_render: test modules cannot import them from conftest (every
# test folder has a conftest.py, and which one "conftest" means depends on collection order).
from chart.chart_render import LAYERS, helm, helm_bin, is_ours, real_deps_dir, render_with_sources


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
