"""checkov over the objects our templates render (base, dev, prod).

checkov's dependencies conflict with the workspace's lock, so it runs in its own pinned
environment: `uvx --offline --from checkov==<CHECKOV_VERSION> checkov` (the offline cache is
filled by ci/install-checkov.sh). Each finding must be fixed or listed in checkov-skips.yaml
with a one-line reason.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from chart.chart_render import LAYERS, is_ours, render_with_sources

CHECKOV_VERSION = "3.3.30"
SKIPS = yaml.safe_load((Path(__file__).with_name("checkov-skips.yaml")).read_text())
CHECKOV = ["uvx", "--offline", "--from", f"checkov=={CHECKOV_VERSION}", "checkov"]


def checkov_results(folder: Path) -> list[dict]:
    if not shutil.which("uvx"):
        pytest.fail("uvx not found: checkov runs with uvx (uv is part of the toolchain)")
    result = subprocess.run(
        [
            *CHECKOV,
            "-d",
            str(folder),
            "--framework",
            "kubernetes",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ],
        check=False,  # checkov exits 1 when it finds something; the report says what
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        message = f"checkov {CHECKOV_VERSION} did not run: {result.stderr[-800:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (run ci/install-checkov.sh first)")
        pytest.skip(message + " (run ci/install-checkov.sh to cache it)")
    report = json.loads(result.stdout)
    return report if isinstance(report, list) else [report]


def is_skipped(check_id: str, resource: str) -> bool:
    return any(
        skip["check"] == check_id and fnmatch.fnmatch(resource, skip["resources"]) for skip in SKIPS
    )


@pytest.fixture(scope="module")
def findings(tmp_path_factory) -> tuple[list[tuple[str, str, str]], set[tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("checkov")
    for name, files in LAYERS.items():
        objects = [obj for source, obj in render_with_sources(value_files=files) if is_ours(source)]
        (folder / f"{name}.yaml").write_text(yaml.safe_dump_all(objects))
    failed, used = [], set()
    for report in checkov_results(folder):
        for check in report["results"]["failed_checks"]:
            key = (check["check_id"], check["resource"])
            if is_skipped(*key):
                used.update(
                    (s["check"], s["resources"])
                    for s in SKIPS
                    if s["check"] == key[0] and fnmatch.fnmatch(key[1], s["resources"])
                )
            else:
                failed.append((check["check_id"], check["check_name"], check["resource"]))
    return failed, used


def test_no_checkov_finding_outside_the_skip_list(findings):
    failed, _ = findings

    assert failed == []


def test_every_skip_has_a_reason_and_is_still_needed(findings):
    _, used = findings

    assert all(len(skip["reason"]) > 20 for skip in SKIPS)
    assert {(s["check"], s["resources"]) for s in SKIPS} - used == set(), (
        "a skip no longer matches anything"
    )
