"""The release workflow (.github/workflows/release.yml) and what it publishes.

The linters run for real (actionlint with shellcheck on the run: scripts, zizmor offline),
and are shown a faulty workflow to prove they are looking. The plan the workflow's first job
prints (ci/release_plan.py, run here as there) must list services/images.yaml's images and
name each as the chart pulls it, with one owner across the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from chart.chart_render import is_ours, pod_specs, real_deps_dir, render_with_sources

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "release.yml"
IMAGES = yaml.safe_load((REPO / "services/images.yaml").read_text())["images"]
CHART = yaml.safe_load((REPO / "Chart.yaml").read_text())
VALUES = yaml.safe_load((REPO / "values.yaml").read_text())
TAG = f"v{CHART['version']}"
BIN = Path(sys.executable).parent


def lint(tool: str, folder: Path) -> subprocess.CompletedProcess:
    commands = {
        # -shellcheck: actionlint checks every run: script with this shellcheck (from the dev
        # group, so the result does not depend on what the machine has on PATH).
        "actionlint": [BIN / "actionlint", "-no-color", "-shellcheck", BIN / "shellcheck"],
        # --offline: no GitHub API (tests have no network). The auditor persona reports
        # everything zizmor knows, the low-confidence findings too: the workflow has none.
        "zizmor": [BIN / "zizmor", "--offline", "--persona", "auditor", "--no-progress"],
    }
    files = sorted(folder.glob("*.y*ml")) if tool == "actionlint" else [folder]
    return subprocess.run(
        [*map(str, commands[tool]), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_plan(tag: str = TAG, owner: str = "proyecto4") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "ci/release_plan.py"), "--tag", tag, "--owner", owner],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def plan() -> dict[str, str]:
    done = run_plan()
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def matrix() -> list[dict]:
    return json.loads(plan()["matrix"])["include"]


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def build_step(job: dict) -> dict:
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action@")]
    return step


@pytest.mark.parametrize("tool", ["actionlint", "zizmor"])
def test_the_workflows_lint_clean(tool):
    done = lint(tool, WORKFLOWS)

    assert done.returncode == 0, done.stdout + done.stderr


FAULTY = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: echo ${{ github.event.head_commit.message }} $HOME
"""


@pytest.mark.parametrize(
    ("tool", "findings"),
    [
        ("actionlint", ["github.event.head_commit.message", "SC2086"]),
        ("zizmor", ["unpinned-uses", "template-injection", "artipacked"]),
    ],
)
def test_the_linters_catch_a_faulty_workflow(tool, findings, tmp_path):
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "faulty.yml").write_text(FAULTY)

    done = lint(tool, folder)

    assert done.returncode != 0
    for finding in findings:
        assert finding in done.stdout + done.stderr


def test_every_action_is_pinned_to_a_commit_with_its_version_named():
    uses = re.findall(r"uses: (\S+)(.*)", WORKFLOW.read_text())

    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), f"{action}: {comment!r}"


def test_the_matrix_is_services_images_yaml():
    built = [{k: e[k] for k in ("name", "dockerfile", "target", "build-args")} for e in matrix()]

    assert built == [
        {
            "name": image["name"],
            "dockerfile": image["dockerfile"],
            "target": image.get("target", ""),
            "build-args": "\n".join(f"{k}={v}" for k, v in (image.get("args") or {}).items()),
        }
        for image in IMAGES
    ]


def test_the_workflow_builds_the_plan_and_names_no_image_itself():
    jobs = workflow()["jobs"]
    step = build_step(jobs["images"])
    text = WORKFLOW.read_text()

    assert any("ci/release_plan.py" in s.get("run", "") for s in jobs["plan"]["steps"])
    assert jobs["images"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert {k: step["with"][k] for k in ("file", "target", "build-args", "tags")} == {
        "file": "${{ matrix.dockerfile }}",
        "target": "${{ matrix.target }}",
        "build-args": "${{ matrix.build-args }}",
        "tags": "${{ matrix.image }}",
    }
    assert (step["with"]["platforms"], step["with"]["sbom"]) == ("linux/amd64,linux/arm64", True)
    assert step["with"]["provenance"] == "mode=max"
    assert [i["name"] for i in IMAGES if f"proyecto4-{i['name']}" in text] == []


def test_only_the_pushing_jobs_may_write_packages():
    document = workflow()
    pushing = {
        name
        for name, job in document["jobs"].items()
        if any("push" in (s.get("run", "") + str(s.get("with", {}))) for s in job["steps"])
    }

    assert document["permissions"] == {}
    assert pushing == {"images", "chart"}
    for name, job in document["jobs"].items():
        write = {"contents": "read", "packages": "write"}
        assert job["permissions"] == (write if name in pushing else {"contents": "read"})


def rendered_images(objects: list[tuple[str, dict]], ours: bool) -> set[str]:
    return {
        container["image"]
        for source, obj in objects
        if is_ours(source) == ours
        for _, spec in pod_specs([obj])
        for container in (spec.get("initContainers") or []) + spec["containers"]
    }


def test_the_release_pushes_the_images_our_charts_pull():
    # Locust is off by default; on, its pods name its image too.
    objects = render_with_sources(values={"locust": {"enabled": True}})
    published = {e["name"]: e["image"] for e in matrix()}
    subcharts = {name for name in published if (REPO / "chart" / name).is_dir()}
    # The umbrella's own templates (the backup CronJob) run the dependencies' images.
    in_subcharts = [
        (source, obj) for source, obj in objects if source.startswith("proyecto4/charts/")
    ]

    assert rendered_images(in_subcharts, ours=True) == {published[name] for name in subcharts}


@pytest.mark.skipif(
    real_deps_dir() is None, reason="needs the real Airflow chart (PROYECTO4_DEPS_DIR)"
)
def test_the_release_pushes_the_image_airflow_pods_pull():
    published = {e["image"] for e in matrix()}
    theirs = rendered_images(render_with_sources(), ours=False)
    registry = VALUES["global"]["proyecto4"]["imageRegistry"]

    # Every image the dependency charts pull from our registry is one the release pushes.
    ours_among_theirs = {image for image in theirs if image.startswith(f"{registry}/")}
    assert ours_among_theirs
    assert ours_among_theirs <= published


def owner_of(url: str) -> str:
    """The owner in https://github.com/<owner>/... or ghcr.io/<owner>/..."""
    match = re.fullmatch(r"(?:https://github\.com|ghcr\.io)/([^/]+)(?:/.*)?", url)
    assert match, url
    return match.group(1)


def test_one_owner_for_the_repository_images_and_charts():
    argocd = yaml.safe_load((REPO / "argocd/values.yaml").read_text())
    owners = {
        "argocd/values.yaml repoURL": owner_of(argocd["repoURL"]),
        "Chart.yaml home": owner_of(CHART["home"]),
        "values.yaml airflow.dags.gitSync.repo": owner_of(
            VALUES["airflow"]["dags"]["gitSync"]["repo"]
        ),
        "values.yaml global.proyecto4.imageRegistry": owner_of(
            VALUES["global"]["proyecto4"]["imageRegistry"]
        ),
        "values.yaml airflow.images.airflow.repository": owner_of(
            VALUES["airflow"]["images"]["airflow"]["repository"]
        ),
        "release chart registry": owner_of(plan()["chart-registry"].removeprefix("oci://")),
    }

    assert set(owners.values()) == {owner_of(argocd["repoURL"])}, owners
    assert argocd["repoURL"] == f"{CHART['home']}.git"


@pytest.mark.parametrize(
    ("tag", "owner", "reason"),
    [
        ("v999.0.0", "proyecto4", f"is not {TAG}"),
        (TAG.removeprefix("v"), "proyecto4", f"is not {TAG}"),
        (TAG, "a-fork", "publishes to ghcr.io/a-fork"),
    ],
)
def test_the_plan_refuses_a_tag_or_owner_the_chart_does_not_match(tag, owner, reason):
    done = run_plan(tag, owner)

    assert (done.returncode, done.stdout) == (1, "")
    assert reason in done.stderr


def test_the_chart_package_leaves_the_workflows_out():
    ignored = (REPO / ".helmignore").read_text().splitlines()

    assert ".github/" in ignored
