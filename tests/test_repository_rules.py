"""House rules of the code itself, checked on the source text (issue 13): one free-port
helper, one way to import the chart test helper, no path tricks to reach tests/ from the
benchmarks, and no code that changes its own process environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from proyecto4_common.settings import MLFLOW_CLIENT_ENV

REPO = Path(__file__).resolve().parents[1]
# Code that ships or runs the platform (tests may set their own environment).
PRODUCT = ("cli", "dags", "services", "common", "plugin")


def python_files(*folders: str) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (REPO / folder).rglob("*.py")
        if not {".venv", "__pycache__", ".tools"} & set(path.parts)
    )


def hits(pattern: str, *folders: str) -> list[str]:
    found = []
    for path in python_files(*folders):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    return found


def test_one_free_port_helper():
    definitions = hits(
        r"def _?(free|closed|unused)_port\b|\.bind\(\([^,()]+,\s*0\s*\)\)",
        *PRODUCT,
        "tests",
        "benchmarks",
    )
    assert [d.split(":")[0] for d in definitions] == ["common/proyecto4_common/net.py"] * 2


def test_the_decision_threshold_is_written_once():
    """The API, the registered model and the pipeline's accuracy decide a class with the
    same probability; a second literal would let them disagree."""
    assert hits(r">=\s*0\.5\b", *PRODUCT) == []
    definitions = hits(r"^DECISION_THRESHOLD = ", *PRODUCT)
    assert [d.split(":")[0] for d in definitions] == ["common/proyecto4_common/names.py"]


def test_clients_take_the_bearer_header_and_the_api_paths_from_common():
    # The plugin installs without the workspace: it mirrors common (tests/plugin checks).
    ours = [f for f in PRODUCT if f != "plugin"]
    headers = hits(r"f[\"']Bearer ", *ours)
    assert [h.split(":")[0] for h in headers] == ["common/proyecto4_common/http_auth.py"]
    paths = hits(r"[\"']/(predict|load_model)/[\"']", *ours)
    assert [h.split(":")[0] for h in paths] == ["common/proyecto4_common/names.py"] * 2


def test_the_chart_test_helper_is_imported_one_way():
    assert hits(r"^\s*(from chart_render|import chart_render)\b", "tests", "benchmarks") == []


@pytest.mark.parametrize("folder", ["benchmarks", "tests"])
def test_no_sys_path_tricks_to_reach_tests(folder):
    # The plugin is no workspace package: its own tests load it from its folder.
    # Only additions count: a test may drop a path (to prove the model loads without it).
    reaching = [
        h
        for h in hits(r"sys\.path(\.insert|\.append|\.extend|\[:0\]\s*=|\s*\+=)", folder)
        if '/ "plugin"' not in h
    ]
    assert reaching == []


@pytest.mark.parametrize(
    "pattern",
    [
        r"os\.environ\[[^\]]+\]\s*=",
        r"os\.environ\.(setdefault|update|pop|clear)\(",
        r"\bputenv\(",
        r"\bdel os\.environ\[",
    ],
)
def test_no_code_changes_its_own_environment(pattern):
    assert hits(pattern, *PRODUCT) == []


@pytest.mark.parametrize("stage", ["inference-api", "streamlit"])
def test_the_mlflow_clients_images_fail_fast_as_the_cli_and_tests_do(stage):
    dockerfile = (REPO / "services/Dockerfile").read_text()
    body = dockerfile.split(f" AS {stage}\n", 1)[1].split("\nFROM ", 1)[0]
    env = dict(
        item.split("=", 1)
        for line in body.splitlines()
        if line.startswith("ENV ")
        for item in line.removeprefix("ENV ").split()
    )
    assert {key: env.get(key) for key in MLFLOW_CLIENT_ENV} == MLFLOW_CLIENT_ENV


def test_every_package_chart_and_image_declares_the_apache_license():
    import tomllib

    import yaml

    assert "Apache License" in (REPO / "LICENSE").read_text()[:200]
    projects = [REPO / "pyproject.toml", *sorted(REPO.glob("*/pyproject.toml"))]
    projects += sorted(REPO.glob("services/*/pyproject.toml"))
    assert len(projects) >= 10
    for path in projects:
        assert tomllib.loads(path.read_text())["project"]["license"] == "Apache-2.0", path
    for path in [REPO / "Chart.yaml", *sorted(REPO.glob("chart/*/Chart.yaml"))]:
        annotations = yaml.safe_load(path.read_text()).get("annotations") or {}
        assert annotations.get("artifacthub.io/license") == "Apache-2.0", path
    # The images' OCI label is read from the chart's annotation.
    assert (
        '"licenses": chart["annotations"]["artifacthub.io/license"]'
        in (REPO / "ci/images.py").read_text()
    )
